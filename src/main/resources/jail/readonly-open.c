/*
 * thaw's jail: QEMU 7.2 opens the file behind memory-backend-file with O_RDWR even for a private
 * (share=off) mapping, and its readonly=on maps guest RAM read-only (ROM). A restored VM needs
 * neither write access nor a writable descriptor: MAP_PRIVATE with PROT_WRITE works on a read-only
 * descriptor. Preloaded into a jailed QEMU, this turns an open of a file listed in
 * THAW_READONLY_FILES (colon-separated absolute paths) into a read-only open; every other open
 * is untouched. The jail also mounts those files read-only, so without this shim the open fails
 * (EROFS) instead of silently giving write access.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int listed(const char *path) {
    const char *list = getenv("THAW_READONLY_FILES");
    size_t n = strlen(path);
    while (path && list && *list) {
        const char *end = strchr(list, ':');
        size_t len = end ? (size_t)(end - list) : strlen(list);
        if (len == n && strncmp(list, path, n) == 0) return 1;
        if (!end) break;
        list = end + 1;
    }
    return 0;
}

static int narrow(const char *path, int flags) {
    if (path && (flags & O_ACCMODE) == O_RDWR && !(flags & (O_CREAT | O_TRUNC)) && listed(path)) {
        return (flags & ~O_ACCMODE) | O_RDONLY;
    }
    return flags;
}

static mode_t mode_of(int flags, va_list ap) {
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define WRAP_OPEN(name)                                                              \
    int name(const char *path, int flags, ...) {                                     \
        static int (*real)(const char *, int, ...);                                  \
        va_list ap; va_start(ap, flags); mode_t m = mode_of(flags, ap); va_end(ap);  \
        if (!real) real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, #name);  \
        return real(path, narrow(path, flags), m);                                   \
    }
#define WRAP_OPENAT(name)                                                                  \
    int name(int dirfd, const char *path, int flags, ...) {                                \
        static int (*real)(int, const char *, int, ...);                                   \
        va_list ap; va_start(ap, flags); mode_t m = mode_of(flags, ap); va_end(ap);        \
        if (!real) real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, #name);   \
        return real(dirfd, path, narrow(path, flags), m);                                  \
    }

/* _FORTIFY_SOURCE turns open() with flags unknown at compile time into these (QEMU's case). */
#define WRAP_OPEN_2(name)                                                  \
    int name(const char *path, int flags) {                                \
        static int (*real)(const char *, int);                             \
        if (!real) real = (int (*)(const char *, int))dlsym(RTLD_NEXT, #name); \
        return real(path, narrow(path, flags));                            \
    }

WRAP_OPEN_2(__open_2)
WRAP_OPEN_2(__open64_2)
WRAP_OPEN(open)
WRAP_OPEN(open64)
WRAP_OPENAT(openat)
WRAP_OPENAT(openat64)
