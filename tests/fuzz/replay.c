/* replay.c: main() for running a libFuzzer target without libFuzzer.
 *
 *   fuzz_load_replay [-v] PATH...
 *
 * Each PATH is a file or a directory (read recursively; names starting with '.' skipped);
 * every file is passed once to LLVMFuzzerTestOneInput. Used by `make check` to replay the
 * committed corpus, and to reproduce a crash without a clang/libFuzzer build.
 *
 * Exit status: 0 when every input ran, 1 when a path could not be read, 2 on usage errors.
 * An input that makes the target crash ends the process, so the caller sees the signal. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool verbose;
static unsigned long n_run, n_failed;

static void fail(const char *path, const char *what) {
        fprintf(stderr, "replay: %s: %s: %s\n", path, what, strerror(errno));
        n_failed++;
}

static void run_file(const char *path) {
        FILE *f = fopen(path, "rb");
        if (!f) {
                fail(path, "cannot open");
                return;
        }
        size_t cap = 4096, len = 0;
        char *buf = malloc(cap);
        if (!buf) {
                fclose(f);
                fail(path, "out of memory");
                return;
        }
        for (;;) {
                if (len == cap) {
                        char *nb = realloc(buf, cap *= 2);
                        if (!nb) {
                                free(buf);
                                fclose(f);
                                fail(path, "out of memory");
                                return;
                        }
                        buf = nb;
                }
                size_t k = fread(buf + len, 1, cap - len, f);
                len += k;
                if (k == 0)
                        break;
        }
        bool err = ferror(f);
        fclose(f);
        if (err) {
                free(buf);
                fail(path, "cannot read");
                return;
        }
        /* Copy into an exact-size allocation, as libFuzzer does, so that ASan (when the replay
         * binary is built with it) catches reads one past the end of the input. */
        char *exact = malloc(len ? len : 1);
        if (!exact) {
                free(buf);
                fail(path, "out of memory");
                return;
        }
        memcpy(exact, buf, len);
        free(buf);
        if (verbose)
                fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
        LLVMFuzzerTestOneInput((const uint8_t *) exact, len);
        free(exact);
        n_run++;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void run_path(const char *path);

static void run_dir(const char *path) {
        DIR *d = opendir(path);
        if (!d) {
                fail(path, "cannot open directory");
                return;
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *e;
        errno = 0;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                if (n == cap) {
                        cap = cap ? 2 * cap : 64;
                        char **nn = realloc(names, cap * sizeof(*names));
                        if (!nn)
                                abort();
                        names = nn;
                }
                size_t l = strlen(path) + 1 + strlen(e->d_name) + 1;
                names[n] = malloc(l);
                if (!names[n])
                        abort();
                snprintf(names[n], l, "%s/%s", path, e->d_name);
                n++;
        }
        closedir(d);
        /* Byte order: the same inputs run in the same order on every machine. */
        if (n > 1)
                qsort(names, n, sizeof(*names), cmp_str);
        for (size_t i = 0; i < n; i++) {
                run_path(names[i]);
                free(names[i]);
        }
        free(names);
}

static void run_path(const char *path) {
        struct stat st;
        if (stat(path, &st) != 0) {
                fail(path, "cannot stat");
                return;
        }
        if (S_ISDIR(st.st_mode))
                run_dir(path);
        else
                run_file(path);
}

int main(int argc, char **argv) {
        int i = 1;
        if (i < argc && strcmp(argv[i], "-v") == 0) {
                verbose = true;
                i++;
        }
        if (i >= argc) {
                fprintf(stderr, "usage: %s [-v] FILE-OR-DIRECTORY...\n", argv[0]);
                return 2;
        }
        for (; i < argc; i++)
                run_path(argv[i]);
        printf("replay: %lu inputs run, %lu unreadable\n", n_run, n_failed);
        return n_failed ? 1 : 0;
}
