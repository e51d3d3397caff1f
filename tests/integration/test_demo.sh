#!/usr/bin/env bash
# The demo pipeline end to end on the embedded default, plus the run modes a user relies on: rerun reads nothing
# new, reset + rerun writes nothing twice, dry-run writes nothing, --limit, dead letters list/show/replay.
source "$(dirname "$0")/lib.sh"
cp -r "$CONFLUX_SOURCE_DIR/configs/demo" demo
P=demo/pipeline.yaml

run_conflux validate $P
expect_code 0

run_conflux run $P --json
expect_code 0
expect_eq "$(summary_field status)" "succeeded" "demo status"
expect_eq "$(summary_field balanced)" "True" "demo balance"
expect_eq "$(summary_field in)" "210" "records read from the four exports"
written=$(summary_field written)
dead=$(summary_field dead_lettered)
[ "$written" -gt 150 ] || fail "demo wrote only $written contacts"
pass
# The e-mail columns the demo maps hold 3 invalid addresses (configs/demo/data/README.md: meta_leads rows 26 and 43,
# calltouch's "test@"); each is dead-lettered by the email stage with its reason.
run_conflux dlq list $P --stage email --json
expect_code 0
expect_eq "$(grep -c '"stage":"email"' <<<"$OUT")" "3" "e-mail dead letters"
expect_out "invalid address"
# Windows-1251 input arrived as UTF-8 Cyrillic in the CRM.
run_conflux crm list $P --limit 0
expect_code 0
expect_out "Петров"
crm_rows=$(grep -c '"id"' <<<"$OUT")
run_conflux crm count $P
expect_eq "$OUT" "$crm_rows" "crm count vs list"
# Phones were normalised to E.164; invalid ones flagged, not guessed.
grep -q '"phone":"+79123456789"' <<<"$(sqlite3 demo/.conflux/crm.db 'select data from contacts')" || fail "no E.164 phone in the CRM"
pass

# A rerun reads nothing new.
run_conflux run $P --json
expect_code 0
expect_eq "$(summary_field in)" "0" "records read by a rerun"

# After a cursor reset everything is read again, and nothing is written twice.
run_conflux state reset $P
expect_code 0
expect_out "removed 4 cursor(s)"
run_conflux run $P --json
expect_code 0
expect_eq "$(summary_field in)" "210" "records re-read after reset"
# Nothing is created twice. (People who appear in several exports are updated again: each source's values
# overwrite the fields it carries, in source order, exactly as on the first read.)
expect_eq "$(sink_field created)" "0" "contacts created again after reset"
# The sink ledger kept records whose content the CRM already holds from being sent again, and the run history has
# one result per record that reached the sink.
unchanged=$(sink_field unchanged)
[ "$unchanged" -gt 0 ] || fail "expected records skipped as unchanged by the sink ledger, got $unchanged"
sink_in=$(sink_field in)
run_conflux state results $P --limit 0
expect_code 0
expect_eq "$(grep -c '"outcome"' <<<"$OUT")" "$sink_in" "per-record results of the rerun"
expect_eq "$(grep -c '"outcome":"unchanged"' <<<"$OUT")" "$unchanged" "unchanged results of the rerun"
run_conflux crm count $P
expect_eq "$OUT" "$crm_rows" "crm rows after a full re-read"

# Dry run writes nothing and commits nothing; --limit stops early.
run_conflux state reset $P
before=$(sqlite3 demo/.conflux/state.db 'select count(*) from dead_letters')
run_conflux run $P --dry-run --limit 70 --json
expect_code 0
expect_eq "$(summary_field in)" "70" "records read with --limit 70"
expect_eq "$(summary_field balanced)" "True" "dry-run balance"
expect_eq "$(sqlite3 demo/.conflux/state.db 'select count(*) from cursors')" "0" "cursors after a dry run"
expect_eq "$(sqlite3 demo/.conflux/state.db 'select count(*) from dead_letters')" "$before" "dead letters after a dry run"

run_conflux state show $P
expect_code 0
expect_out "cursors:"
expect_out "recent runs:"

# Replay: the letters come back through the email stage, fail the same way, and become new letters.
id=$(sqlite3 demo/.conflux/state.db "select id from dead_letters where stage = 'email' and replayed_at is null limit 1")
run_conflux dlq show $P "$id"
expect_code 0
expect_out '"record"'
run_conflux dlq replay $P --id "$id"
expect_code 0
expect_out "in 1 = written 0 + unchanged 0 + dropped 0 + dead-lettered 1"
expect_eq "$(sqlite3 demo/.conflux/state.db "select replayed_at is not null from dead_letters where id = $id")" "1" "replayed flag"
done_ok
