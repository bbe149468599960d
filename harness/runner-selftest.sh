#!/usr/bin/env bash
# Proves the VM runner reports the guest command's status: a command that exits 3 must make
# vm.sh exit 3, and a passing one 0.
set -u
here=$(dirname "$0")
pass=0 fail=0
check() { if [ "$2" = "$3" ]; then echo "ok   $1"; pass=$((pass+1)); else echo "FAIL $1: expected $3, got $2"; fail=$((fail+1)); fi; }
bash "$here/vm.sh" --timeout 120 -- sh -c 'echo guest says hello; exit 3' > /tmp/runner-selftest.log 2>&1
check "guest exit 3 propagates" "$?" 3
grep -q 'guest command exited with status 3' /tmp/runner-selftest.log
check "status 3 is reported" "$?" 0
grep -q 'guest says hello' /tmp/runner-selftest.log
check "guest output is shown" "$?" 0
bash "$here/vm.sh" --timeout 120 -- true > /tmp/runner-selftest.log 2>&1
check "guest exit 0 propagates" "$?" 0
echo "runner: $pass passed, $fail failed"
[ "$fail" = 0 ]
