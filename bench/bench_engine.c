/* bench_engine.c: time `apply` from scratch and `plan` with no changes, in one process, against
 * libvirt's test driver (whose host lives only inside the connection that opened it).
 *
 *   make bench/bench_engine
 *   bench/bench_engine CONFIG_DIR test:///ABS/PATH/tests/data/hosts/kvm01.xml
 *
 * Each step is what one `podform apply --yes` / `podform plan --detailed-exitcode` does after
 * the connection is open: load + validate the configuration, then pf_reconcile. Prints one line
 * of JSON on stdout:
 *
 *   {"load_s": 0.12, "apply_s": 3.4, "plan_s": 0.5, "apply_calls": 3561, "plan_calls": 0,
 *    "rss_after_apply_kib": 51234, "peak_rss_kib": 52345}
 *
 * load_s is the first load + validate alone (also included in apply_s and plan_s). Peak RSS is
 * getrusage(RUSAGE_SELF).ru_maxrss, so it includes the test driver's copy of the host. The plan
 * and apply output goes to a temporary file and is shown only on failure. Exit status: 0 when
 * apply succeeds and the following plan is empty and makes no mutating libvirt call; 1
 * otherwise (loudly, with the output); 2 on usage errors. Used by bench/libvirt-scale.py. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "run/exit.h"
#include "config/load.h"
#include "config/validate.h"
#include "libvirt/conn.h"
#include "netlink/rtnl.h"
#include "run/reconcile.h"

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static long peak_rss_kib(void) {
        struct rusage ru;
        return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1; /* KiB on Linux */
}

/* load + validate; exits on any configuration error. */
static void load(pf_config *c, const char *dir) {
        pf_config_init(c);
        pf_config_load_path(c, dir);
        pf_validate(c);
        if (c->diags.n_errors) {
                pf_diag_print(&c->diags, stderr, false);
                fprintf(stderr, "bench_engine: %s: the configuration is invalid\n", dir);
                exit(1);
        }
}

/* Shows what a failed step printed (its tail: the plan of 500 VMs is long). */
static void dump(FILE *f, const char *what) {
        long len = ftell(f);
        long from = len > 64 * 1024 ? len - 64 * 1024 : 0;
        fprintf(stderr, "---- bench_engine: output of %s%s ----\n", what, from ? " (last 64 KiB)" : "");
        fseek(f, from, SEEK_SET);
        char buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                fwrite(buf, 1, n, stderr);
        fprintf(stderr, "---- end ----\n");
}

typedef struct step {
        int code;
        double seconds;
        unsigned long calls;    /* mutating libvirt calls */
} step;

static step run(pf_lv_host *h, pf_nl_host *nl, const char *dir, bool apply, FILE *out) {
        step s;
        double t0 = now();
        pf_config c;
        load(&c, dir);
        pf_run_opts o = { .apply = apply, .yes = true, .detailed_exitcode = true,
                          .host_name = pf_scope_host(&c, NULL), .out = out, .err = stderr };
        unsigned long before = pf_lv_mutations(h);
        s.code = pf_reconcile(&c, h, nl, &o);
        s.calls = pf_lv_mutations(h) - before;
        pf_config_free(&c);
        s.seconds = now() - t0;
        fflush(out);
        return s;
}

int main(int argc, char **argv) {
        if (argc != 3 || strncmp(argv[2], "test://", 7) != 0) {
                fprintf(stderr, "usage: bench_engine CONFIG_DIR test:///ABS/PATH/HOST.xml\n");
                return 2;
        }
        const char *dir = argv[1], *uri = argv[2];

        double t0 = now();
        pf_config c;
        load(&c, dir);
        double load_s = now() - t0;
        pf_config_free(&c);

        pf_lv_opts lo = { .shutdown_timeout = 1 };
        char *err = NULL;
        pf_lv_host *h = pf_lv_open(uri, NULL, &lo, &err);     /* ownership record in memory only */
        if (!h) {
                fprintf(stderr, "bench_engine: %s: %s\n", uri, err ? err : "cannot connect");
                free(err);
                return 1;
        }
        /* the links of this network namespace, observed only: the generated configurations
         * declare none, so apply has nothing to change there (no ports record either) */
        pf_nl_host *nl = pf_nl_open(NULL, false, &err);
        if (!nl) {
                fprintf(stderr, "bench_engine: netlink: %s\n", err ? err : "cannot open");
                free(err);
                pf_lv_close(h);
                return 1;
        }

        FILE *out = tmpfile();
        if (!out) {
                perror("bench_engine: tmpfile");
                return 1;
        }
        step a = run(h, nl, dir, true, out);
        if (a.code != PF_EXIT_OK) {
                dump(out, "apply");
                fprintf(stderr, "bench_engine: FAILED: apply from scratch exited %d\n", a.code);
                return 1;
        }
        long rss_apply = peak_rss_kib();

        rewind(out);
        if (ftruncate(fileno(out), 0) != 0)
                perror("bench_engine: ftruncate");
        step p = run(h, nl, dir, false, out);
        if (p.code != PF_EXIT_OK || p.calls != 0) {
                dump(out, "plan");
                fprintf(stderr, "bench_engine: FAILED: plan after apply is not empty (exit %d, %lu mutating calls)\n",
                        p.code, p.calls);
                return 1;
        }
        fclose(out);
        pf_nl_close(nl);
        pf_lv_close(h);

        printf("{\"load_s\": %.4f, \"apply_s\": %.4f, \"plan_s\": %.4f, \"apply_calls\": %lu, \"plan_calls\": %lu, "
               "\"rss_after_apply_kib\": %ld, \"peak_rss_kib\": %ld}\n",
               load_s, a.seconds, p.seconds, a.calls, p.calls, rss_apply, peak_rss_kib());
        return 0;
}
