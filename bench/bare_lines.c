/* The physical baseline of import-log: the lines of a file found with memchr() over a
 * read() buffer, nothing else done with them. Prints "lines=N bytes=N seconds=S".
 * Usage: bare_lines FILE */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    static char buf[1 << 20];
    unsigned long long lines = 0, bytes = 0;
    struct timespec t0, t1;
    ssize_t r;

    if (argc != 2) {
        fprintf(stderr, "usage: bare_lines FILE\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while ((r = read(fd, buf, sizeof(buf))) > 0) {
        const char *p = buf, *end = buf + r;
        while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            lines++;
            p++;
        }
        bytes += (unsigned long long)r;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (r < 0) {
        perror("read");
        return 1;
    }
    printf("lines=%llu bytes=%llu seconds=%.3f\n", lines, bytes,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
