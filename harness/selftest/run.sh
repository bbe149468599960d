#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Self-test of the iio_emu emulated IIO devices. Runs as root where iio_emu is loaded (the test
# VM: harness/vm.sh -- harness/selftest/run.sh, or a real board). Prints one line per check
# ("PASS ..."/"FAIL ...") and finally "N passed, M failed"; exits 1 if any check failed.
#
# Environment:
#   IIO_EMU_KO=path     the module for the rmmod/insmod check (default: ../emu/iio_emu.ko)
#   IIO_SELFTEST_BIN=path  the iio_selftest binary (default: ./iio_selftest; ARM guests: cross-built)
#   IIO_SELFTEST_SKIP="rmmod unbind ..."   skip these parts (capture sysfstrig events dmabuf nodmabuf dac
#                       freerun mux fast dacfast fastunbind unbind blocks stress rmmod)
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${IIO_SELFTEST_BIN:-$here/iio_selftest}
ko=${IIO_EMU_KO:-$here/../emu/iio_emu.ko}
skip=" ${IIO_SELFTEST_SKIP:-} "
sys=/sys/bus/iio/devices
passed=0
failed=0

pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi
}
eq() { # eq DESCRIPTION ACTUAL EXPECTED
  if [ "$2" = "$3" ]; then pass "$1 = $3"; else fail "$1 = '$2' (want '$3')"; fi
}
devpath() { # devpath NAME -> /sys/bus/iio/devices/iio:deviceN of the device with that name
  local d
  for d in "$sys"/iio:device*; do
    [ "$(cat "$d/name" 2>/dev/null)" = "$1" ] && { echo "$d"; return 0; }
  done
  return 1
}
rd() { cat "$1" 2>/dev/null || echo "<unreadable>"; }
write_errno() { # write_errno PATH VALUE -> prints the errno of the write (0 = success)
  "$bin" write "$1" "$2" 2>/dev/null; echo $?
}
run_c() { # run_c PART ARGS... : one C part, its PASS/FAIL lines counted here
  local part=$1 out rc p f
  case "$skip" in *" $part "*) echo "# skipping $part"; return ;; esac
  out=$(mktemp)
  timeout -k 5 240 "$bin" "$@" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  p=$(grep -c '^PASS ' "$out"); f=$(grep -c '^FAIL ' "$out")
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then fail "$part: iio_selftest exited with status $rc"; fi
  rm -f "$out"
}

[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root" >&2; exit 2; }
# The IIO DMABUF API exists from 6.11 on (the emulator's buffer1 is a kfifo before): there the
# DMABUF parts give way to nodmabuf, which checks the read()/write() fallback.
kver=$(uname -r); kmaj=${kver%%.*}; kmin=${kver#*.}; kmin=${kmin%%[!0-9]*}
if [ "$kmaj" -lt 6 ] || { [ "$kmaj" = 6 ] && [ "$kmin" -lt 11 ]; }; then
  echo "# kernel $kver has no IIO DMABUF (6.11+): skipping dmabuf fast dacfast fastunbind blocks, checking the read()/write() fallback"
  skip="$skip dmabuf fast dacfast fastunbind blocks "
else
  skip="$skip nodmabuf "
fi
[ -x "$bin" ] || { echo "run.sh: $bin missing: make -C $here" >&2; exit 2; }

# ---- (a) devices, channels, scan element types, labels
check "platform driver iio-emu bound" test -e /sys/bus/platform/drivers/iio-emu/iio-emu
for name in emu-thermo emu-adc emu-dac emu-mux; do
  if devpath "$name" >/dev/null; then pass "device $name present"; else fail "device $name present"; fi
done
th=$(devpath emu-thermo) || th=/nonexistent
adc=$(devpath emu-adc) || adc=/nonexistent
dac=$(devpath emu-dac) || dac=/nonexistent
eq "emu-thermo label" "$(rd "$th/label")" board-temp
eq "emu-adc label" "$(rd "$adc/label")" adc-main
eq "emu-dac label" "$(rd "$dac/label")" dac-main
mux=$(devpath emu-mux) || mux=/nonexistent
eq "emu-mux label" "$(rd "$mux/label")" mux-adc
check "/dev node of emu-adc" test -c "/dev/$(basename "$adc")"

for f in in_temp_raw in_temp_scale in_temp_offset emu_temp_mC emu_heat_cycle_ms \
         events/in_temp_thresh_rising_en events/in_temp_thresh_rising_value \
         events/in_temp_thresh_rising_hysteresis events/in_temp_thresh_falling_en \
         events/in_temp_thresh_falling_value events/in_temp_thresh_falling_hysteresis; do
  check "emu-thermo has $f" test -e "$th/$f"
done
eq "emu-thermo buffer0/in_temp_type" "$(rd "$th/buffer0/in_temp_type")" "le:s16/16>>0"
eq "emu-thermo buffer0/in_temp_index" "$(rd "$th/buffer0/in_temp_index")" 0
eq "emu-thermo buffer0/in_timestamp_type" "$(rd "$th/buffer0/in_timestamp_type")" "le:s64/64>>0"
eq "emu-thermo buffer0/in_timestamp_index" "$(rd "$th/buffer0/in_timestamp_index")" 1
eq "emu-thermo in_temp_scale" "$(rd "$th/in_temp_scale")" 62.500000
eq "emu-thermo in_temp_offset" "$(rd "$th/in_temp_offset")" 160

adc_types=(
  "in_voltage0 0 le:u12/16>>4"
  "in_voltage1 1 le:s16/16>>0"
  "in_voltage2 2 be:s16/16>>0"
  "in_voltage3 3 le:s24/32>>8"
  "in_voltage4 4 le:u16/16X4>>0"
  "in_accel_x 5 le:s16/16>>0"
  "in_accel_y 6 le:s16/16>>0"
  "in_accel_z 7 le:s16/16>>0"
  "in_timestamp 8 le:s64/64>>0"
)
for b in 0 1; do
  for t in "${adc_types[@]}"; do
    set -- $t
    eq "emu-adc buffer$b/$1_type" "$(rd "$adc/buffer$b/$1_type")" "$3"
    eq "emu-adc buffer$b/$1_index" "$(rd "$adc/buffer$b/$1_index")" "$2"
  done
  eq "emu-adc buffer$b/direction" "$(rd "$adc/buffer$b/direction")" in
done
for f in in_voltage0_raw in_voltage1_raw in_voltage2_raw in_voltage3_raw in_voltage4_raw \
         in_accel_x_raw in_accel_y_raw in_accel_z_raw emu_dropped_scans emu_free_running; do
  check "emu-adc has $f" test -e "$adc/$f"
done
eq "emu-adc in_voltage_scale" "$(rd "$adc/in_voltage_scale")" 0.805664
eq "emu-adc in_accel_scale" "$(rd "$adc/in_accel_scale")" 0.009576
eq "emu-adc in_voltage3_offset" "$(rd "$adc/in_voltage3_offset")" -100
eq "emu-adc sampling_frequency" "$(rd "$adc/sampling_frequency")" 1000
eq "emu-adc emu_free_running default" "$(rd "$adc/emu_free_running")" 0
eq "emu-adc legacy scan_elements/in_voltage4_type" "$(rd "$adc/scan_elements/in_voltage4_type")" "le:u16/16X4>>0"

for b in 0 1; do
  for c in 0 1; do
    eq "emu-dac buffer$b/out_voltage${c}_type" "$(rd "$dac/buffer$b/out_voltage${c}_type")" "le:s16/16>>0"
    eq "emu-dac buffer$b/out_voltage${c}_index" "$(rd "$dac/buffer$b/out_voltage${c}_index")" "$c"
  done
  eq "emu-dac buffer$b/direction" "$(rd "$dac/buffer$b/direction")" out
done
for f in out_voltage0_raw out_voltage1_raw out_voltage_scale emu_consumed_bytes \
         emu_consumed_scans emu_consumed_crc32 emu_cyclic_wraps emu_underruns emu_reset \
         emu_free_running; do
  check "emu-dac has $f" test -e "$dac/$f"
done
eq "emu-dac emu_free_running default" "$(rd "$dac/emu_free_running")" 0

mux_types=(
  "in_voltage0-voltage1 0 le:s16/16>>0"
  "in_voltage2-voltage3 1 le:s16/16>>0"
  "in_voltage0 2 be:s12/16>>4"
  "in_voltage1 3 be:s12/16>>4"
  "in_voltage4_supply 4 le:u16/16>>0"
  "in_accel_x 5 le:s16/16>>0"
  "in_timestamp 6 le:s64/64>>0"
)
for t in "${mux_types[@]}"; do
  set -- $t
  eq "emu-mux buffer0/$1_type" "$(rd "$mux/buffer0/$1_type")" "$3"
  eq "emu-mux buffer0/$1_index" "$(rd "$mux/buffer0/$1_index")" "$2"
done
check "emu-mux has no buffer1" test ! -e "$mux/buffer1"
for a in in_voltage0-voltage1_raw:0 in_voltage2-voltage3_raw:961 in_voltage0_raw:1922 in_voltage1_raw:-1213 \
         in_voltage4_supply_raw:3844 in_accel_x_raw:4805 in_voltage-voltage_scale:0.062500 \
         "in_voltage-voltage_scale_available:0.062500 0.125000" in_voltage_scale:1.000000 \
         in_voltage4_supply_scale:2.000000 in_voltage4_supply_label:supply in_accel_scale:0.009576 \
         in_sampling_frequency:128 events/in_voltage0-voltage1_thresh_rising_en:0 \
         events/in_voltage0-voltage1_thresh_rising_value:0 events/in_voltage-voltage_thresh_rising_hysteresis:0 \
         events/in_thresh_rising_period:0 events/in_accel_x_mag_rising_en:0 events/in_accel_mag_rising_value:0; do
  eq "emu-mux ${a%%:*}" "$(rd "$mux/${a%%:*}")" "${a#*:}"
done
# Exactly these: no per-channel scale on differential or single-ended channels, no voltage scale for accel.
eq "emu-mux in_* files" "$(cd "$mux" && echo in_*)" \
  "in_accel_scale in_accel_x_raw in_sampling_frequency in_voltage-voltage_scale in_voltage-voltage_scale_available in_voltage0-voltage1_raw in_voltage0_raw in_voltage1_raw in_voltage2-voltage3_raw in_voltage4_supply_label in_voltage4_supply_raw in_voltage4_supply_scale in_voltage_scale"
eq "emu-mux events" "$(cd "$mux/events" && echo *)" \
  "in_accel_mag_rising_value in_accel_x_mag_rising_en in_thresh_rising_period in_voltage-voltage_thresh_rising_hysteresis in_voltage0-voltage1_thresh_rising_en in_voltage0-voltage1_thresh_rising_value"
eq "emu-mux event value write 300" "$(write_errno "$mux/events/in_voltage0-voltage1_thresh_rising_value" 300)" 0
eq "emu-mux event value reads back" "$(rd "$mux/events/in_voltage0-voltage1_thresh_rising_value")" 300
"$bin" write "$mux/events/in_voltage0-voltage1_thresh_rising_value" 0

# ---- (d) emu-thermo attributes and event attributes
ev=$th/events
eq "emu_temp_mC initial" "$(rd "$th/emu_temp_mC")" 25000
eq "in_temp_raw initial" "$(rd "$th/in_temp_raw")" 240
eq "in_temp_thresh_rising_value default" "$(rd "$ev/in_temp_thresh_rising_value")" 560
eq "in_temp_thresh_falling_value default" "$(rd "$ev/in_temp_thresh_falling_value")" 400
eq "in_temp_thresh_rising_hysteresis default" "$(rd "$ev/in_temp_thresh_rising_hysteresis")" 16
eq "in_temp_thresh_falling_hysteresis default" "$(rd "$ev/in_temp_thresh_falling_hysteresis")" 16
eq "in_temp_thresh_rising_en default" "$(rd "$ev/in_temp_thresh_rising_en")" 0
eq "in_temp_thresh_falling_en default" "$(rd "$ev/in_temp_thresh_falling_en")" 0
for a in rising_value:600 falling_value:380 rising_hysteresis:24 falling_hysteresis:8 rising_en:1 falling_en:1; do
  f=$ev/in_temp_thresh_${a%%:*}; v=${a#*:}
  eq "write $v to in_temp_thresh_${a%%:*}" "$(write_errno "$f" "$v")" 0
  eq "read back in_temp_thresh_${a%%:*}" "$(rd "$f")" "$v"
done
for a in rising_value falling_value rising_hysteresis; do
  eq "in_temp_thresh_${a}: garbage -> EINVAL(22)" "$(write_errno "$ev/in_temp_thresh_$a" abc)" 22
done
eq "in_temp_thresh_rising_hysteresis: -1 -> EINVAL(22)" "$(write_errno "$ev/in_temp_thresh_rising_hysteresis" -1)" 22
eq "in_temp_thresh_rising_value: 40000 (beyond s16) -> EINVAL(22)" "$(write_errno "$ev/in_temp_thresh_rising_value" 40000)" 22
eq "in_temp_thresh_rising_en: garbage -> EINVAL(22)" "$(write_errno "$ev/in_temp_thresh_rising_en" maybe)" 22
for a in rising_value:560 falling_value:400 rising_hysteresis:16 falling_hysteresis:16 rising_en:0 falling_en:0; do
  "$bin" write "$ev/in_temp_thresh_${a%%:*}" "${a#*:}"
done
eq "emu_temp_mC: garbage -> EINVAL(22)" "$(write_errno "$th/emu_temp_mC" warm)" 22
"$bin" write "$th/emu_temp_mC" 25032
eq "emu_temp_mC 25032 -> in_temp_raw" "$(rd "$th/in_temp_raw")" 241
eq "emu_temp_mC 25032 reads back quantised" "$(rd "$th/emu_temp_mC")" 25062
"$bin" write "$th/emu_temp_mC" -40000
eq "emu_temp_mC -40000 -> in_temp_raw" "$(rd "$th/in_temp_raw")" -800
"$bin" write "$th/emu_temp_mC" 25000
eq "emu_temp_mC restored" "$(rd "$th/in_temp_raw")" 240
eq "emu-adc sampling_frequency 0 -> EINVAL(22)" "$(write_errno "$adc/sampling_frequency" 0)" 22
eq "emu-adc sampling_frequency write 500" "$(write_errno "$adc/sampling_frequency" 500)" 0
eq "emu-adc sampling_frequency reads back" "$(rd "$adc/sampling_frequency")" 500
"$bin" write "$adc/sampling_frequency" 1000
eq "emu-adc emu_dropped_scans: write 5 -> EINVAL(22)" "$(write_errno "$adc/emu_dropped_scans" 5)" 22
eq "emu-adc emu_dropped_scans: write 0 resets" "$(write_errno "$adc/emu_dropped_scans" 0)" 0

# ---- (b) hrtimer capture, (c) sysfs trigger, (e) events, (f) DMABUF, (g) DAC
run_c capture
run_c sysfstrig
run_c events
run_c dmabuf
run_c nodmabuf
run_c dac

# ---- free-running mode (no trigger)
case "$skip" in *" freerun "*) ;; *)
  adc=$(devpath emu-adc) || adc=/nonexistent
  for f in "$adc"/buffer0/*_en; do echo 0 > "$f"; done
  echo 1 > "$adc/buffer0/in_voltage1_en"; echo 64 > "$adc/buffer0/length"
  echo > "$adc/trigger/current_trigger"
  eq "emu-adc buffer0 enable without trigger and not free-running -> EINVAL(22)" \
     "$(write_errno "$adc/buffer0/enable" 1)" 22
  eq "emu_free_running = 1" "$(write_errno "$adc/emu_free_running" 1)" 0
  eq "emu-adc buffer0 enable free-running" "$(write_errno "$adc/buffer0/enable" 1)" 0
  eq "emu_free_running cannot change while enabled -> EBUSY(16)" \
     "$(write_errno "$adc/emu_free_running" 0)" 16
  n=0; for _ in $(seq 100); do n=$(cat "$adc/buffer0/data_available"); [ "$n" -ge 10 ] && break; sleep 0.05; done
  if [ "$n" -ge 10 ]; then pass "free-running produces scans without a trigger ($n)"; else fail "free-running produces scans ($n)"; fi
  eq "emu-adc buffer0 disable" "$(write_errno "$adc/buffer0/enable" 0)" 0
  echo 0 > "$adc/emu_free_running"
  run_c freerun 1000 2000
esac

# ---- free-running as fast as userspace keeps up (emu-adc mode 2, emu-dac free-running)
run_c fast 100000 50
run_c dacfast
run_c fastunbind

# ---- emu-mux: one channel per scan, sysfs-triggered capture with exact values
mux_capture() { # mux_capture ELEMENT SCANS EXPECTED: capture SCANS 2-byte scans (no timestamp), compare their hex bytes
  local el=$1 n=$2 i c
  echo 1 > "$mux/buffer0/${el}_en"
  eq "emu-mux $el: buffer0 enable" "$(write_errno "$mux/buffer0/enable" 1)" 0
  for i in $(seq "$n"); do
    echo 1 > "$trig/trigger_now"
    for _ in $(seq 100); do c=$(cat "$mux/buffer0/data_available"); [ "$c" -ge "$i" ] && break; sleep 0.05; done
  done
  if cat "$mux/in_voltage0_raw" >/dev/null 2>&1; then fail "emu-mux raw read while buffered -> EBUSY"; else pass "emu-mux raw read while buffered fails (EBUSY)"; fi
  eq "emu-mux $el: $n scans" "$(dd if="/dev/$(basename "$mux")" bs=$((2 * n)) count=1 2>/dev/null | od -An -tx1 | xargs)" "$3"
  echo 0 > "$mux/buffer0/enable"
  echo 0 > "$mux/buffer0/${el}_en"
}
case "$skip" in *" mux "*) ;; *)
  mux=$(devpath emu-mux) || mux=/nonexistent
  [ -e "$sys/iio_sysfs_trigger" ] || modprobe iio-trig-sysfs
  echo 78 > "$sys/iio_sysfs_trigger/add_trigger"
  trig=/nonexistent
  for t in "$sys"/trigger*; do [ "$(cat "$t/name")" = sysfstrig78 ] && trig=$t; done
  for f in "$mux"/buffer0/*_en; do echo 0 > "$f"; done
  echo 16 > "$mux/buffer0/length"   # the kfifo default holds 2 scans
  echo 1 > "$mux/buffer0/in_voltage0-voltage1_en"
  eq "emu-mux second scan element -> EINVAL(22)" "$(write_errno "$mux/buffer0/in_voltage2-voltage3_en" 1)" 22
  eq "emu-mux first scan element stays enabled" "$(rd "$mux/buffer0/in_voltage0-voltage1_en")" 1
  eq "emu-mux second scan element stays disabled" "$(rd "$mux/buffer0/in_voltage2-voltage3_en")" 0
  echo > "$mux/trigger/current_trigger"
  eq "emu-mux enable without a trigger -> EINVAL(22)" "$(write_errno "$mux/buffer0/enable" 1)" 22
  echo 0 > "$mux/buffer0/in_voltage0-voltage1_en"
  echo 1 > "$mux/buffer0/in_timestamp_en"
  echo sysfstrig78 > "$mux/trigger/current_trigger"
  eq "emu-mux timestamp alone -> EINVAL(22)" "$(write_errno "$mux/buffer0/enable" 1)" 22
  echo 0 > "$mux/buffer0/in_timestamp_en"
  # raw(k, n) = (k*961 + n*(2^(bits-8)+1)) mod 2^bits, stored = raw << shift | n's low bits
  mux_capture in_voltage0-voltage1 3 "00 00 01 01 02 02"
  mux_capture in_voltage1 3 "b4 30 b5 41 b6 52"
  mux_capture in_accel_x 2 "c5 12 c6 13"
  echo > "$mux/trigger/current_trigger"
  echo 78 > "$sys/iio_sysfs_trigger/remove_trigger"
esac

# ---- (h) removal while in use
run_c unbind
run_c blocks
run_c stress 6
if [ -f "$ko" ]; then
  run_c rmmod "$ko"
else
  echo "# skipping rmmod: $ko not found"
fi

# ---- (i) the kernel log stays clean
bad=$(dmesg 2>/dev/null | grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace|possible circular locking|possible recursive locking|inconsistent lock state|unreferenced object|kmemleak|UBSAN|KASAN' | head -n 5)
if [ -z "$bad" ]; then pass "dmesg has no WARN/BUG/lockdep/leak lines"; else fail "dmesg: $bad"; fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
