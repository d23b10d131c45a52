#include "config.h"
#include "util/statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

/* The directory of `path` and its parents, created if missing. */
static int mkdir_of(const char *path) {
        _cleanup_free_ char *dir = pf_xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        for (char *p = dir + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        int r = mkdir(dir, 0755);
                        *p = '/';
                        if (r < 0 && errno != EEXIST)
                                return -1;
                }
        return mkdir(dir, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int pf_lock_path(const char *path) {
        if (mkdir_of(path) < 0)
                return -1;
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return -1;
        if (flock(fd, LOCK_EX) < 0) {
                int e = errno;
                close(fd);
                errno = e;
                return -1;
        }
        return fd;
}

FILE *pf_record_begin(const char *path) {
        if (mkdir_of(path) < 0)
                return NULL;
        _cleanup_free_ char *tmp = pf_xasprintf("%s.tmp", path);
        return fopen(tmp, "we");
}

int pf_record_commit(FILE *f, const char *path) {
        _cleanup_free_ char *tmp = pf_xasprintf("%s.tmp", path);
        bool written = fflush(f) == 0 && fsync(fileno(f)) == 0;
        int e = errno;
        written = fclose(f) == 0 && written;
        if (!written || rename(tmp, path) < 0) {
                e = written ? errno : e;
                unlink(tmp);
                errno = e;
                return -1;
        }
        return 0;
}
