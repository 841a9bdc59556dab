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
