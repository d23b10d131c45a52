#include "config.h"
#include "golden.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

char *pf_golden_read(const char *path, size_t *len) {
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        char *buf = NULL;
        size_t cap = 0;
        FILE *m = open_memstream(&buf, &cap);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                fwrite(chunk, 1, n, m);
        fclose(f);
        fclose(m);
        if (len)
                *len = cap;
        return buf;
}

bool pf_golden_regenerate(void) {
        const char *regen = getenv("PODFORM_REGENERATE");
        return regen && strcmp(regen, "1") == 0;
}

void pf_golden_check(const char *path, const char *got, size_t got_len) {
        if (pf_golden_regenerate()) {
                FILE *f = fopen(path, "wb");
                if (!f)
                        fail_msg("cannot write %s", path);
                fwrite(got, 1, got_len, f);
                fclose(f);
        }
        size_t len = 0;
        char *want = pf_golden_read(path, &len);
        if (!want)
                fail_msg("%s is missing; run with PODFORM_REGENERATE=1 and review it", path);
        if (len != got_len || memcmp(want, got, len) != 0)
                fail_msg("output differs from %s:\n--- expected\n%s--- got\n%.*s", path, want, (int) got_len, got);
        free(want);
}

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

char **pf_golden_list(const char *dir, const char *suffix, size_t *n) {
        *n = 0;
        DIR *d = opendir(dir);
        if (!d)
                return NULL;
        char **names = NULL;
        size_t sl = strlen(suffix);
        struct dirent *e;
        while ((e = readdir(d))) {
                size_t len = strlen(e->d_name);
                if (e->d_name[0] == '.' || len <= sl || strcmp(e->d_name + len - sl, suffix) != 0)
                        continue;
                names = realloc(names, (*n + 1) * sizeof(*names));
                if (!names || asprintf(&names[*n], "%s/%s", dir, e->d_name) < 0)
                        abort();
                (*n)++;
        }
        closedir(d);
        if (*n)
                qsort(names, *n, sizeof(*names), name_cmp);
        return names;
}

void pf_golden_list_free(char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

int pf_golden_run(const char *group, char **names, size_t n, void (*test_func)(void **),
                  int (*setup)(void **), int (*teardown)(void **)) {
        if (!n) {
                fprintf(stderr, "%s: no cases\n", group);
                return 1;
        }
        struct CMUnitTest *tests = calloc(n, sizeof(*tests));
        if (!tests)
                abort();
        for (size_t i = 0; i < n; i++)
                tests[i] = (struct CMUnitTest) { .name = names[i], .test_func = test_func, .initial_state = names[i] };
        int failed = _cmocka_run_group_tests(group, tests, n, setup, teardown);
        free(tests);
        return failed;
}

int pf_golden_main(const char *srcdir_data, const char *dir, const char *suffix, const char *group,
                   void (*test_func)(void **), int (*setup)(void **), int (*teardown)(void **)) {
        if (chdir(srcdir_data) != 0) {
                fprintf(stderr, "chdir %s: %s\n", srcdir_data, strerror(errno));
                return 1;
        }
        size_t n = 0;
        char **names = pf_golden_list(dir, suffix, &n);
        int failed = pf_golden_run(group, names, n, test_func, setup, teardown);
        pf_golden_list_free(names, n);
        return failed;
}
