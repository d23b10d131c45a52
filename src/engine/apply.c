#include "config.h"
#include "engine/apply.h"

#include <stdlib.h>

#include "util/xalloc.h"

pf_apply_result pf_apply_plan(const pf_plan *p, const pf_driver *const drivers[_PF_R_MAX], FILE *report, bool color) {
        pf_apply_result r = { 0 };
        _cleanup_free_ pf_outcome *out = pf_xcalloc(p->actions.n ? p->actions.n : 1, sizeof(*out));
        for (size_t i = 0; i < p->actions.n; i++) {
                const pf_action *a = &p->actions.v[i];
                size_t blocked = SIZE_MAX;
                for (size_t d = 0; d < a->deps.n; d++)
                        if (out[a->deps.v[d]] != PF_OUTCOME_OK)
                                blocked = a->deps.v[d];
                if (blocked != SIZE_MAX) {
                        out[i] = PF_OUTCOME_SKIPPED;
                        r.n_skipped++;
                        if (report) {
                                const pf_action *b = &p->actions.v[blocked];
                                fputs("  skipped ", report);
                                pf_action_print_head(a, report, color);
                                fprintf(report, ": it needs %s %s, which was not applied\n", pf_rkind_name(b->kind), b->name);
                        }
                        continue;
                }
                const pf_driver *drv = drivers[a->kind];
                char *err = NULL;
                int ret = drv ? drv->apply(drv->ctx, a, &err) : -1;
                if (ret < 0) {
                        out[i] = PF_OUTCOME_FAILED;
                        r.n_failed++;
                } else {
                        out[i] = PF_OUTCOME_OK;
                        r.n_ok++;
                }
                if (report) {
                        fputs(ret < 0 ? "  FAILED  " : "  done    ", report);
                        pf_action_print_head(a, report, color);
                        if (ret < 0)
                                fprintf(report, ": %s", err ? err : "no driver handles this kind");
                        fputc('\n', report);
                        fflush(report);
                }
                free(err);
        }
        return r;
}
