/* A shared library that is not a Conflux plugin: it exports neither entry symbol. */
int conflux_not_a_plugin(void) { return 42; }
