/*
 * A stand-in for QEMU in RegionsPreloadTest: maps the file argv[1] the way QEMU maps guest RAM on
 * a restore (private, read-write, at an address it reserved first, MAP_FIXED), then prints the
 * mapping's address and length, the sum of its bytes and its lines of /proc/self/maps. Run it
 * under a name starting with "qemu-system" so thaw-regions.c acts in it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return 2;
    size_t len = (size_t)st.st_size;
    char *area = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) return 2;
    char *p = mmap(area, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0);
    if (p == MAP_FAILED) {
        printf("mmap failed: %s\n", strerror(errno));
        return 3;
    }
    unsigned long long sum = 0;
    for (size_t i = 0; i < len; i++) sum += (unsigned char)p[i];
    printf("base %lx len %lx sum %llu\n", (unsigned long)p, (unsigned long)len, sum);
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    while (maps != NULL && fgets(line, sizeof line, maps) != NULL) fputs(line, stdout);
    return 0;
}
