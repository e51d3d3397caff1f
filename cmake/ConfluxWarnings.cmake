# conflux_set_warnings(target): the project's warning set; errors when CONFLUX_WERROR is on.
function(conflux_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local -Wno-unused-parameter)
  if(CONFLUX_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(CONFLUX_SANITIZE)
    # GCC 12 reports false "maybe-uninitialized" inside libstdc++'s <regex> once ASan instruments it.
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
endfunction()

if(CONFLUX_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
