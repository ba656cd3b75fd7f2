/*
 * thaw's jailer: starts one QEMU confined (see dev.thaw.vm.Jail and docs/design.md §5).
 *
 *   thaw-jailer --uid N --gid N [--group N]... [--cgroup PROCS_FILE]... --root DIR
 *               [--ro PATH]... [--rw DIR]... [--dev PATH]... [--env NAME=VALUE]... -- COMMAND ARGS...
 *
 * As root: enters new mount, PID, network, IPC and UTS namespaces and forks. The parent writes
 * the child's pid to each cgroup.procs while the child (PID 1 of the new namespaces) mounts a
 * tmpfs on DIR, binds each --ro path read-only (a symbolic link is copied as a link), each --rw
 * directory and --dev node writable, at the same path under DIR; pivots into DIR and detaches the
 * old root; remounts the root read-only; drops the capability bounding set, sets groups, gid and
 * uid, no_new_privs and a parent-death signal; waits until the parent says the cgroups are
 * joined (a byte on a pipe; EOF means the parent failed, and the child gives up); and execs
 * COMMAND, so QEMU is limited from its first instruction. The parent waits and exits with the
 * child's status; it dies with the thread that started it (PR_SET_PDEATHSIG), and the child
 * with it.
 *
 * Why the join runs beside the set-up: on cgroup v1 each write to cgroup.procs takes the
 * kernel's thread-group lock for writing, which waits for an RCU grace period: 0.3 ms for three
 * hierarchies on an idle host, 2-7 ms at a load average of 8-12, as long as the whole mount
 * set-up. THAW_JAIL_TRACE=1 prints each step's time (below).
 *
 * One small program instead of a shell script of mount(8) calls: the script cost ~200 ms per VM
 * in process start-ups, this costs a few milliseconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ITEMS 64

/* THAW_JAIL_TRACE=1: one stderr line per step, "thaw-jailer-trace: STEP MONOTONIC_US DELTA_US",
 * to see where a jailed start spends its time (stderr is the VM's qemu.log). Off, it costs a getenv. */
static int tracing;
static long long trace_last;

static long long mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void trace(const char *step) {
    if (!tracing) return;
    long long now = mono_us();
    fprintf(stderr, "thaw-jailer-trace: %s %lld %lld\n", step, now, trace_last ? now - trace_last : 0);
    trace_last = now;
}

static void die(const char *what, const char *arg) {
    fprintf(stderr, "thaw-jailer: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "", strerror(errno));
    _exit(126);
}

static void usage(const char *why) {
    fprintf(stderr, "thaw-jailer: %s\n", why);
    _exit(125);
}

/* mkdir -p of DIR (absolute). */
static void mkdirs(const char *dir) {
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) usage("path too long");
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0755) && errno != EEXIST) die("mkdir", p);
        *s = '/';
    }
    if (mkdir(p, 0755) && errno != EEXIST) die("mkdir", p);
}

static void parent_of(const char *path, char *out) {
    snprintf(out, PATH_MAX, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash == out) slash[1] = 0; else if (slash) *slash = 0;
}

/* Makes ROOT+PATH like PATH (link, directory or file) and binds PATH there unless it is a link. */
static void place(const char *root, const char *path, unsigned long flags) {
    char dst[PATH_MAX], dir[PATH_MAX];
    struct stat st;
    if (path[0] != '/') usage("paths must be absolute");
    if (snprintf(dst, sizeof dst, "%s%s", root, path) >= (int)sizeof dst) usage("path too long");
    if (lstat(path, &st)) die("lstat", path);
    parent_of(dst, dir);
    mkdirs(dir);
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0) die("readlink", path);
        target[n] = 0;
        if (symlink(target, dst)) die("symlink", dst);
        return;
    }
    if (S_ISDIR(st.st_mode)) mkdirs(dst);
    else {
        int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0) die("create", dst);
        close(fd);
    }
    if (mount(path, dst, NULL, MS_BIND | MS_REC, NULL)) die("bind", path);
    if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | flags, NULL)) die("remount", dst);
}

int main(int argc, char **argv) {
    const char *ro[MAX_ITEMS], *rw[MAX_ITEMS], *dev[MAX_ITEMS], *cg[MAX_ITEMS], *env[MAX_ITEMS];
    gid_t groups[MAX_ITEMS];
    int nro = 0, nrw = 0, ndev = 0, ncg = 0, nenv = 0, ngroups = 0;
    long uid = -1, gid = -1;
    const char *root = NULL;
    int i = 1;
    for (; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--")) { i++; break; }
        if (i + 1 >= argc) usage("an option lacks its value");
        const char *v = argv[++i];
        if (nro >= MAX_ITEMS || nrw >= MAX_ITEMS || ndev >= MAX_ITEMS || ncg >= MAX_ITEMS || nenv >= MAX_ITEMS || ngroups >= MAX_ITEMS)
            usage("too many items");
        if (!strcmp(o, "--uid")) uid = strtol(v, NULL, 10);
        else if (!strcmp(o, "--gid")) gid = strtol(v, NULL, 10);
        else if (!strcmp(o, "--group")) groups[ngroups++] = (gid_t)strtol(v, NULL, 10);
        else if (!strcmp(o, "--cgroup")) cg[ncg++] = v;
        else if (!strcmp(o, "--root")) root = v;
        else if (!strcmp(o, "--ro")) ro[nro++] = v;
        else if (!strcmp(o, "--rw")) rw[nrw++] = v;
        else if (!strcmp(o, "--dev")) dev[ndev++] = v;
        else if (!strcmp(o, "--env")) env[nenv++] = v;
        else usage("unknown option");
    }
    if (uid <= 0 || gid <= 0 || !root || i >= argc) usage("need --uid and --gid (not 0), --root and a command");
    char **cmd = argv + i;
    const char *t = getenv("THAW_JAIL_TRACE");
    tracing = t && !strcmp(t, "1");
    trace("start");

    pid_t starter = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL)) die("prctl", "PDEATHSIG");
    if (getppid() != starter) _exit(1); /* the thread that started us is already gone */
    /* Opened before unshare: once the child pivots, this process (in the same new mount
     * namespace) has the jail's root too, where no /sys is. */
    int procs[MAX_ITEMS];
    for (int k = 0; k < ncg; k++) {
        if ((procs[k] = open(cg[k], O_WRONLY | O_CLOEXEC)) < 0) die("open", cg[k]);
    }
    int joined[2]; /* the parent writes one byte once the child is in its cgroups */
    if (pipe2(joined, O_CLOEXEC)) die("pipe", NULL);
    if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)) die("unshare", NULL);
    trace("unshared");

    pid_t child = fork();
    if (child < 0) die("fork", NULL);
    if (child > 0) {
        close(joined[0]);
        char pid[24];
        snprintf(pid, sizeof pid, "%d", (int)child);
        for (int k = 0; k < ncg; k++) { /* on failure we exit: the child reads EOF and gives up */
            if (write(procs[k], pid, strlen(pid)) < 0) die("join", cg[k]);
            close(procs[k]);
        }
        trace("cgroups-joined");
        if (write(joined[1], "j", 1) != 1) die("write", "the join pipe");
        close(joined[1]);
        int status;
        while (waitpid(child, &status, 0) < 0) {
            if (errno != EINTR) die("waitpid", NULL);
        }
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
    }

    /* PID 1 of the new namespaces, still root. */
    close(joined[1]);
    for (int k = 0; k < ncg; k++) close(procs[k]);
    trace("forked");
    if (prctl(PR_SET_PDEATHSIG, SIGKILL)) die("prctl", "PDEATHSIG");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) die("make private", "/");
    trace("made-private");
    if (mount("thaw-jail", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")) die("tmpfs", root);
    trace("tmpfs");
    for (int k = 0; k < nro; k++) place(root, ro[k], MS_RDONLY | MS_NOSUID | MS_NODEV);
    trace("ro-binds");
    for (int k = 0; k < ndev; k++) place(root, dev[k], MS_NOSUID | MS_NOEXEC);
    for (int k = 0; k < nrw; k++) place(root, rw[k], MS_NOSUID | MS_NODEV | MS_NOEXEC);
    trace("dev-rw-binds");
    if (chdir(root)) die("chdir", root);
    if (mkdir(".old", 0700)) die("mkdir", ".old");
    if (syscall(SYS_pivot_root, ".", ".old")) die("pivot_root", root);
    if (chdir("/")) die("chdir", "/");
    if (umount2("/.old", MNT_DETACH)) die("umount", "/.old");
    if (rmdir("/.old")) die("rmdir", "/.old");
    trace("pivoted");
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL)) die("remount read-only", "/");
    if (sethostname("thaw-vm", 7)) die("sethostname", NULL);
    trace("root-read-only");

    for (int cap = 0; cap <= 63; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL) die("drop capability", NULL);
    }
    if (setgroups(ngroups, groups)) die("setgroups", NULL);
    if (setresgid(gid, gid, gid)) die("setresgid", NULL);
    if (setresuid(uid, uid, uid)) die("setresuid", NULL); /* clears permitted, effective and ambient capabilities */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) die("prctl", "NO_NEW_PRIVS");
    if (prctl(PR_SET_PDEATHSIG, SIGKILL)) die("prctl", "PDEATHSIG"); /* the uid change cleared it */
    for (int k = 0; k < nenv; k++) {
        if (putenv((char *)env[k])) die("putenv", env[k]);
    }
    trace("privileges-dropped");
    char byte;
    ssize_t n;
    while ((n = read(joined[0], &byte, 1)) < 0 && errno == EINTR) {}
    if (n != 1) { errno = EPIPE; die("wait for the cgroups", NULL); }
    close(joined[0]);
    trace("cgroups-awaited");
    execvp(cmd[0], cmd);
    die("exec", cmd[0]);
    return 126;
}
