# macvtap-lock.sh, sourced: one test with macvtaps at a time on this machine.
# A macvtap's character device is /dev/tap<ifindex> in the one devtmpfs every network namespace
# shares, and each namespace counts ifindexes from 1: two tests with a macvtap at the same
# ifindex get one node between them (the first's), so a VM of the second opens the first's
# macvtap, or finds none once the first is gone ("Unable to create tap device ...: Invalid
# argument"). test_links.c takes the same lock. Held on fd 9 until the test exits. Only root
# makes macvtaps (the tests skip otherwise), so the lock is root's: in /run/lock, else /run (a
# new debootstrap root has no /run/lock), else /tmp, whatever TMPDIR says.
if [ -z "${PODFORM_MACVTAP_LOCK-}" ] && [ "$(id -u)" = 0 ]; then
	for lock_dir in /run/lock /run /tmp; do [ -d "$lock_dir" ] && break; done
	exec 9>>"$lock_dir/podform-tests-macvtap.lock"
	flock 9
	export PODFORM_MACVTAP_LOCK=1
fi
