/* test_corpus: every tests/data/invalid/NAME.yaml (or directory NAME/) is loaded and validated;
 * the diagnostics must equal NAME.err byte for byte, and there must be at least one error.
 * tests/data/warn/ the same, for configurations that are valid but warned about: no error,
 * at least one warning.
 * PODFORM_REGENERATE=1 rewrites the .err files (review the diff). Adding a case is adding files. */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/load.h"
#include "golden.h"
#include "config/validate.h"
#include "run/reconcile.h"

static void test_case(void **state) {
        const char *name = *state;      /* "invalid/NAME.yaml", "invalid/NAME" or "warn/..." */
        pf_config c;
        pf_config_init(&c);
        pf_config_load_path(&c, name);
        pf_run_check(&c);
        pf_diag_sort(&c.diags);
        char *out = NULL;
        size_t out_len = 0;
        FILE *m = open_memstream(&out, &out_len);
        pf_diag_print(&c.diags, m, false);
        fclose(m);

        char expected_path[512];
        size_t base = strlen(name);
        if (base > 5 && strcmp(name + base - 5, ".yaml") == 0)
                base -= 5;
        snprintf(expected_path, sizeof(expected_path), "%.*s.err", (int) base, name);
        pf_golden_check(expected_path, out, out_len);
        if (strncmp(name, "warn/", 5) == 0) {
                assert_int_equal(c.diags.n_errors, 0);
                assert_true(c.diags.n > 0);
        } else {
                assert_true(c.diags.n_errors > 0);
        }
        free(out);
        pf_config_free(&c);
}

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int main(void) {
        if (chdir(SRCDIR "/tests/data") != 0) {
                perror("chdir " SRCDIR "/tests/data");
                return 1;
        }
        char **names = NULL;
        size_t n = 0;
        static const char *const dirs[] = { "invalid", "warn" };
        for (size_t k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
                DIR *d = opendir(dirs[k]);
                if (!d) {
                        perror(dirs[k]);
                        return 1;
                }
                struct dirent *e;
                while ((e = readdir(d))) {
                        size_t len = strlen(e->d_name);
                        if (e->d_name[0] == '.' || (len > 4 && strcmp(e->d_name + len - 4, ".err") == 0))
                                continue;
                        names = realloc(names, (n + 1) * sizeof(*names));
                        if (asprintf(&names[n], "%s/%s", dirs[k], e->d_name) < 0)
                                return 1;
                        n++;
                }
                closedir(d);
        }
        qsort(names, n, sizeof(*names), name_cmp);
        struct CMUnitTest *tests = calloc(n, sizeof(*tests));
        for (size_t i = 0; i < n; i++)
                tests[i] = (struct CMUnitTest) { .name = names[i], .test_func = test_case, .initial_state = names[i] };
        int failed = _cmocka_run_group_tests("invalid-corpus", tests, n, NULL, NULL);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        free(tests);
        return failed;
}
