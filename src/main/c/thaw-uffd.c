/*
 * thaw-uffd: a userfaultfd memory backend for QEMU, loaded with LD_PRELOAD.
 *
 * QEMU (7.2) cannot hand its guest RAM to another process, so thaw lets QEMU map guest RAM from
 * the snapshot's memory file as usual (memory-backend-file, share=off) and this library swaps
 * that one mapping at the moment it is made:
 *
 *   1. mmap() of the file named by THAW_UFFD_MEM_PATH (matched by device and inode, not by
 *      name, so a bind-mounted or re-linked path still matches) is replaced by an anonymous
 *      private mapping of the same length at the same place (MAP_FIXED is kept when QEMU asked
 *      for it: QEMU reserves an aligned area first and maps the file over it).
 *   2. The range is registered with a new userfaultfd in MISSING mode, so every first touch of a
 *      page (by QEMU's threads or by the kernel on QEMU's behalf) waits for thaw's page server.
 *   3. The library connects to the Unix socket named by THAW_UFFD_SOCKET and sends Firecracker's
 *      UFFD handshake, byte for byte what Firecracker's Uffd memory backend sends (see
 *      firecracker docs/snapshotting/handling-page-faults-on-snapshot-resume.md, and the sender
 *      in src/vmm/src/persist.rs, which serialises its GuestRegionUffdMapping list with serde):
 *      one sendmsg(2) whose data is the compact JSON array
 *        [{"base_host_virt_addr":<u64>,"size":<u64>,"offset":<u64>,"page_size":<u64>}]
 *      and whose ancillary data is one SCM_RIGHTS message carrying the userfaultfd.
 *   4. Its own copy of the userfaultfd is closed: the page server holds the only one. If the
 *      page server dies the kernel drops the registration, so the page server's owner kills
 *      QEMU before closing its descriptor (Firecracker's doc: the handler must kill the VMM).
 *
 * Only the first matching mapping is taken over. Any failure makes that mmap() fail (QEMU then
 * exits with its own "cannot map" message) after a line on stderr naming the step and errno:
 * a VM must never run on guest RAM that silently reads as zeros.
 *
 * Built by thaw itself (dev.thaw.memory.UffdPreload) with the host's gcc and cached by the hash
 * of this file; it depends on nothing but glibc and the kernel's UAPI headers.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);

static mmap_fn real_mmap;
static int armed;            /* 1 while the memory file's mapping is still to be taken over */
static int user_mode_ok;     /* THAW_UFFD_USER_MODE_ONLY=1: guest RAM is touched only from user mode (TCG) */
static dev_t mem_dev;
static ino_t mem_ino;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static void say(const char *step, int err) {
    char line[256];
    int n = snprintf(line, sizeof line, "thaw-uffd: %s: %s\n", step, strerror(err));
    if (n > 0) (void)!write(2, line, (size_t)n);
}

__attribute__((constructor)) static void thaw_uffd_init(void) {
    real_mmap = (mmap_fn)dlsym(RTLD_NEXT, "mmap");
    /* LD_PRELOAD also reaches the wrapper that execs QEMU (setpriv): act, and consume the
     * variables, only in QEMU itself. */
    if (strncmp(program_invocation_short_name, "qemu-system", 11) != 0) return;
    const char *mem = getenv("THAW_UFFD_MEM_PATH");
    const char *sock = getenv("THAW_UFFD_SOCKET");
    /* The variables must not reach QEMU's children (the exec:cat of a migration). */
    unsetenv("LD_PRELOAD");
    unsetenv("THAW_UFFD_MEM_PATH");
    unsetenv("THAW_UFFD_SOCKET");
    const char *user_mode = getenv("THAW_UFFD_USER_MODE_ONLY");
    user_mode_ok = user_mode != NULL && strcmp(user_mode, "1") == 0;
    unsetenv("THAW_UFFD_USER_MODE_ONLY");
    if (mem == NULL || sock == NULL) return;
    struct stat st;
    if (stat(mem, &st) != 0) {
        say("stat of THAW_UFFD_MEM_PATH", errno);
        return; /* QEMU will fail to open it too, with its own message */
    }
    if (strlen(sock) >= sizeof sock_path) {
        say("THAW_UFFD_SOCKET is too long for a Unix socket", ENAMETOOLONG);
        return;
    }
    strcpy(sock_path, sock);
    mem_dev = st.st_dev;
    mem_ino = st.st_ino;
    armed = 1;
}

static int new_userfaultfd(void) {
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (fd >= 0) return fd;
    /* Without CAP_SYS_PTRACE (and vm.unprivileged_userfaultfd=0) the device may still be allowed. */
    int saved = errno;
    int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
    if (dev >= 0) {
        fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
        saved = errno;
        close(dev);
        if (fd >= 0) return fd;
    }
    /* A jailed QEMU has neither. Under TCG every access to guest RAM is QEMU's own user-mode
     * load or store, so a userfaultfd that handles only user-mode faults (allowed to any user
     * since Linux 5.11) serves it all; under KVM the kernel touches guest RAM for the vCPU and
     * such a descriptor would not see those faults, so thaw sets the variable only for TCG. */
    if (user_mode_ok) {
        fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
        if (fd >= 0) return fd;
        saved = errno;
    }
    errno = saved;
    return -1;
}

/* One sendmsg: the JSON bytes, and the userfaultfd as SCM_RIGHTS (as Firecracker's send_with_fd). */
static int handshake(int uffd, uint64_t base, uint64_t size, uint64_t offset) {
    char json[256];
    int n = snprintf(json, sizeof json,
                     "[{\"base_host_virt_addr\":%" PRIu64 ",\"size\":%" PRIu64 ",\"offset\":%" PRIu64
                     ",\"page_size\":%ld}]",
                     base, size, offset, sysconf(_SC_PAGESIZE));
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, sock_path);
    if (connect(s, (struct sockaddr *)&addr, sizeof addr) != 0) goto fail;
    struct iovec iov = {.iov_base = json, .iov_len = (size_t)n};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &uffd, sizeof(int));
    ssize_t sent;
    do sent = sendmsg(s, &msg, MSG_NOSIGNAL); while (sent < 0 && errno == EINTR);
    if (sent != n) {
        if (sent >= 0) errno = EMSGSIZE;
        goto fail;
    }
    close(s);
    return 0;
fail:;
    int saved = errno;
    close(s);
    errno = saved;
    return -1;
}

static void *take_over(void *addr, size_t len, int prot, int flags, off_t offset) {
    armed = 0;
    int keep = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_NORESERVE);
    void *p = real_mmap(addr, len, prot, keep | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        say("anonymous mapping for guest RAM", errno);
        return MAP_FAILED;
    }
    int uffd = new_userfaultfd();
    if (uffd < 0) {
        say("userfaultfd", errno);
        goto fail;
    }
    struct uffdio_api api = {.api = UFFD_API, .features = 0};
    if (ioctl(uffd, UFFDIO_API, &api) != 0) {
        say("UFFDIO_API", errno);
        goto fail_fd;
    }
    struct uffdio_register reg = {.range = {.start = (uint64_t)(uintptr_t)p, .len = len},
                                  .mode = UFFDIO_REGISTER_MODE_MISSING};
    if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0) {
        say("UFFDIO_REGISTER", errno);
        goto fail_fd;
    }
    if (handshake(uffd, (uint64_t)(uintptr_t)p, len, (uint64_t)offset) != 0) {
        say("sending the handshake to THAW_UFFD_SOCKET", errno);
        goto fail_fd;
    }
    close(uffd);
    return p;
fail_fd:
    close(uffd);
fail:;
    int saved = errno;
    munmap(p, len);
    errno = saved;
    return MAP_FAILED;
}

static int is_guest_ram(int fd, int flags) {
    if (!armed || fd < 0 || (flags & MAP_ANONYMOUS)) return 0;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_dev != mem_dev || st.st_ino != mem_ino) return 0;
    if ((flags & MAP_TYPE) != MAP_PRIVATE) {
        /* A shared mapping writes through to the file: not a restore. Leave it to the kernel. */
        armed = 0;
        say("guest RAM is mapped shared; userfaultfd backend not used", EINVAL);
        return 0;
    }
    return 1;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset) {
    if (real_mmap == NULL) real_mmap = (mmap_fn)dlsym(RTLD_NEXT, "mmap");
    if (is_guest_ram(fd, flags)) return take_over(addr, len, prot, flags, offset);
    return real_mmap(addr, len, prot, flags, fd, offset);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t offset) {
    return mmap(addr, len, prot, flags, fd, offset);
}
