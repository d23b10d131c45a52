/* fuzz_load.c: libFuzzer target for the whole configuration front end.
 *
 * One input is one configuration file: it is parsed (libyaml events -> node tree), walked into
 * the model (load.c), validated across resources (validate.c), and every diagnostic is sorted
 * and printed with its source excerpt and caret (diag.c) -- so the code that quotes hostile
 * lines back at the user is fuzzed too.
 *
 * Built two ways (Makefile.am):
 *   tests/fuzz/fuzz_load         clang -fsanitize=fuzzer,address,undefined (--enable-fuzzing)
 *   tests/fuzz/fuzz_load_replay  with replay.c's main(): runs the committed corpus in `make check`
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/load.h"
#include "config/validate.h"
#include "run/reconcile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Opened once and kept: opening /dev/null per input would dominate the run time. */
static FILE *devnull(void) {
        static FILE *f;
        if (!f) {
                f = fopen("/dev/null", "w");
                if (!f) {
                        perror("fuzz_load: /dev/null");
                        abort();
                }
        }
        return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FILE *out = devnull();
        pf_config c;
        pf_config_init(&c);
        pf_config_load_buffer(&c, "fuzz.yaml", (const char *) data, size);
        pf_run_check(&c);
        pf_diag_sort(&c.diags);
        /* Both styles: the colour path has its own branches in the excerpt printer. */
        pf_diag_print(&c.diags, out, false);
        pf_diag_print(&c.diags, out, true);
        pf_config_free(&c);
        return 0;
}
