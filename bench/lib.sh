# Sourced by the benchmarks, from the top of the source tree.
# bench_build_dir: sets build to where opentlsrpt is built: $BUILD, else the tree itself
# when it is configured in place, else build-bench/ (configured on first use).
bench_build_dir() {
    if [ -n "${BUILD:-}" ]; then
        build=$BUILD
    elif [ -f config.status ]; then
        build=$(pwd)
    else
        build=$(pwd)/build-bench
        if [ ! -f "$build/Makefile" ]; then
            [ -f configure ] || autoreconf -fi >/dev/null 2>&1
            mkdir -p "$build" && (cd "$build" && ../configure -q) || exit 1
        fi
    fi
}

# bench_tlsrpt_dir NAME QLEN: a work directory $W holding c.conf for a daemon with only the
# tlsrpt role, run as root, and net.unix.max_dgram_qlen at QLEN; on exit the process $pid
# is killed, the queue length restored and $W removed. Needs root.
bench_tlsrpt_dir() {
    W=$(mktemp -d "/tmp/otr-bench-$1.XXXXXX")
    bench_qlen_orig=$(cat /proc/sys/net/unix/max_dgram_qlen)
    pid=
    trap bench_tlsrpt_cleanup EXIT
    echo "$2" > /proc/sys/net/unix/max_dgram_qlen
    printf 'spool_directory = %s/spool\ntlsrpt_socket = %s/otr.sock\nuser = root\n' "$W" "$W" > "$W/c.conf"
}
bench_tlsrpt_cleanup() {
    [ -n "$pid" ] && kill "$pid" 2> /dev/null
    echo "$bench_qlen_orig" > /proc/sys/net/unix/max_dgram_qlen
    rm -rf "$W"
}
# bench_otr_start BINARY: starts the daemon on $W/c.conf (log in $W/otr.log) as $pid and
# waits for its socket.
bench_otr_start() {
    rm -rf "$W/spool" "$W/otr.sock"
    "$1" -f -c "$W/c.conf" 2> "$W/otr.log" &
    pid=$!
    for _ in $(seq 100); do [ -S "$W/otr.sock" ] && break; sleep 0.05; done
}
