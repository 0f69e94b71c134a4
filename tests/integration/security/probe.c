/* Isolation probe, run as pid 1 inside a container (tests/integration/security).
 * Each line is "name=result": "ok", an errno name, or a value.  Built static at
 * test time and shipped as the only binary of a tiny image. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void res(const char *name, long rc) {
    if (rc < 0) printf("%s=%s\n", name, strerrorname_np(errno));
    else printf("%s=ok\n", name);
}

static void status_lines(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Cap", 3) || !strncmp(line, "Seccomp:", 8) || !strncmp(line, "NoNewPrivs:", 11)) {
            char *tab = strchr(line, '\t');
            line[strcspn(line, ":")] = 0;
            printf("%s=%s", line, tab ? tab + 1 : "\n");
        }
    if (f) fclose(f);
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--list")) return 0;  /* the seed builder asks for applets */
    if (getpid() != 1) {  /* never probe the host: mount/reboot/kexec would act on it */
        fprintf(stderr, "probe: refusing to run outside a container (not pid 1)\n");
        return 2;
    }
    long host_pid = argc > 1 ? atol(argv[1]) : 1;
    status_lines();
    res("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
    res("mount_cgroup", mount("cgroup", "/tmp", "cgroup", 0, "rdma"));
    res("unshare_user", unshare(CLONE_NEWUSER));
    res("unshare_mnt", unshare(CLONE_NEWNS));
    res("keyctl", syscall(SYS_keyctl, 1 /* JOIN_SESSION_KEYRING */, 0));
    res("ptrace_host", ptrace(PTRACE_ATTACH, (pid_t)host_pid, 0, 0));
    res("reboot", reboot(RB_DISABLE_CAD));
    res("kexec_load", syscall(SYS_kexec_load, 0, 0, 0, 0));
    res("swapon", syscall(SYS_swapon, "/nonexistent", 0));
    res("init_module", syscall(SYS_init_module, 0, 0, ""));
    res("chroot", chroot("/"));
    int fd = open("/proc/kcore", O_RDONLY);
    char buf[64];
    printf("kcore_bytes=%ld\n", fd < 0 ? -1L : (long)read(fd, buf, sizeof buf));
    if (fd >= 0) close(fd);
    fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
    res("write_proc_sys", fd < 0 ? -1 : write(fd, "1", 1));
    if (fd >= 0) close(fd);
    res("mkdir_sys", mkdir("/sys/fs/dockyard-probe", 0700));
    res("mkdir_root", mkdir("/dockyard-probe", 0700));
    /* fds beyond stdio: the directory stream's own fd is the only one expected */
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int extra = 0;
    while (d && (e = readdir(d)))
        if (atoi(e->d_name) > 2 && atoi(e->d_name) != dirfd(d)) extra++;
    if (d) closedir(d);
    printf("extra_fds=%d\n", extra);
    char cwd[4096];
    printf("cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : strerrorname_np(errno));
    return 0;
}
