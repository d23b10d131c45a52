/* golden.h: data-driven tests compare what the code produces with files under tests/data.
 * PODFORM_REGENERATE=1 rewrites the expected files instead (review the diff); a missing
 * expected file fails with that hint, as test_corpus does. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* The whole file, NUL-terminated (malloc'd), or NULL; its length in *len unless len is NULL. */
char *pf_golden_read(const char *path, size_t *len);
/* got must equal the file at path byte for byte; fails the running cmocka test otherwise. */
void pf_golden_check(const char *path, const char *got, size_t got_len);
bool pf_golden_regenerate(void);
/* The sorted names in dir that end with suffix, "dir/NAME" each (malloc'd, *n of them). */
char **pf_golden_list(const char *dir, const char *suffix, size_t *n);
void pf_golden_list_free(char **names, size_t n);
/* pf_golden_main: a data test's whole main(): from SRCDIR/tests/data, one cmocka test per
 * file of dir ending in suffix, as pf_golden_list and pf_golden_run. */
int pf_golden_main(const char *srcdir_data, const char *dir, const char *suffix, const char *group,
                   void (*test_func)(void **), int (*setup)(void **), int (*teardown)(void **));
/* Run one cmocka test per name, test_func getting the name as its state. */
int pf_golden_run(const char *group, char **names, size_t n, void (*test_func)(void **),
                  int (*setup)(void **), int (*teardown)(void **));
