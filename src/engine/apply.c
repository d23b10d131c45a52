#include "config.h"
#include "engine/apply.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/xalloc.h"

typedef enum slot_state { SLOT_PENDING, SLOT_RUNNING, SLOT_OVER } slot_state;

/* One action of the plan as apply carries it out. */
typedef struct slot {
        slot_state state;
        pf_outcome outcome;
        size_t blocked;                 /* skipped: the dependency that was not applied */
        char *err;                      /* failed: why (NULL: no driver handles the kind) */
} slot;

/* One apply: the plan, the step being carried out ([lo, hi)), and the report so far. Workers
 * share it under `lock`; `changed` is signalled whenever an action is over. */
typedef struct apply_run {
        const pf_plan *p;
        const pf_driver *const *drivers;
        slot *slots;
        size_t lo, hi;
        size_t next;                    /* the step's first action not yet started */
        size_t reported;                /* actions reported so far, in plan order */
        FILE *report;
        bool color;
        pf_apply_result r;
        pthread_mutex_t lock;
        pthread_cond_t changed;
} apply_run;

/* Whether action i must be skipped: a dependency of it was not applied (every dependency is
 * over by then). */
static bool skip_if_blocked(apply_run *run, size_t i) {
        const pf_action *a = &run->p->actions.v[i];
        size_t blocked = SIZE_MAX;
        for (size_t d = 0; d < a->deps.n; d++)
                if (run->slots[a->deps.v[d]].outcome != PF_OUTCOME_OK)
                        blocked = a->deps.v[d];
        if (blocked == SIZE_MAX)
                return false;
        run->slots[i].outcome = PF_OUTCOME_SKIPPED;
        run->slots[i].blocked = blocked;
        return true;
}

/* Carries out action i through its driver with `ctx`; the outcome into its slot. */
static void carry_out(apply_run *run, size_t i, void *ctx) {
        const pf_action *a = &run->p->actions.v[i];
        const pf_driver *drv = run->drivers[a->kind];
        char *err = NULL;
        int ret = drv ? drv->apply(ctx, a, &err) : -1;
        run->slots[i].outcome = ret < 0 ? PF_OUTCOME_FAILED : PF_OUTCOME_OK;
        run->slots[i].err = err;
}

static void report_one(apply_run *run, size_t i) {
        const pf_action *a = &run->p->actions.v[i];
        slot *s = &run->slots[i];
        if (s->outcome == PF_OUTCOME_OK)
                run->r.n_ok++;
        else if (s->outcome == PF_OUTCOME_FAILED)
                run->r.n_failed++;
        else
                run->r.n_skipped++;
        FILE *f = run->report;
        if (f && s->outcome == PF_OUTCOME_SKIPPED) {
                const pf_action *b = &run->p->actions.v[s->blocked];
                fputs("  skipped ", f);
                pf_action_print_head(a, f, run->color);
                fprintf(f, ": it needs %s %s, which was not applied\n", pf_rkind_name(b->kind), b->name);
        } else if (f) {
                fputs(s->outcome == PF_OUTCOME_FAILED ? "  FAILED  " : "  done    ", f);
                pf_action_print_head(a, f, run->color);
                if (s->outcome == PF_OUTCOME_FAILED)
                        fprintf(f, ": %s", s->err ? s->err : "no driver handles this kind");
                fputc('\n', f);
                fflush(f);
        }
        free(s->err);
        s->err = NULL;
}

/* Reports every action that is over and has every action before it reported. */
static void report_ready(apply_run *run) {
        while (run->reported < run->hi && run->slots[run->reported].state == SLOT_OVER)
                report_one(run, run->reported++);
}

/* The step's first action not started whose dependencies in the step are over, or SIZE_MAX. */
static size_t next_ready(const apply_run *run) {
        for (size_t i = run->next; i < run->hi; i++) {
                const pf_action *a = &run->p->actions.v[i];
                bool ready = run->slots[i].state == SLOT_PENDING;
                for (size_t d = 0; ready && d < a->deps.n; d++)
                        ready = a->deps.v[d] < run->lo || run->slots[a->deps.v[d]].state == SLOT_OVER;
                if (ready)
                        return i;
        }
        return SIZE_MAX;
}

typedef struct worker {
        apply_run *run;
        void *ctx;
        pthread_t thread;
} worker;

/* A worker takes the step's actions in plan order, each as soon as what it needs is over. */
static void *work(void *arg) {
        worker *w = arg;
        apply_run *run = w->run;
        pthread_mutex_lock(&run->lock);
        while (run->next < run->hi) {
                size_t i = next_ready(run);
                if (i == SIZE_MAX) {    /* the rest wait for actions still running */
                        pthread_cond_wait(&run->changed, &run->lock);
                        continue;
                }
                run->slots[i].state = SLOT_RUNNING;
                while (run->next < run->hi && run->slots[run->next].state != SLOT_PENDING)
                        run->next++;
                if (!skip_if_blocked(run, i)) {
                        pthread_mutex_unlock(&run->lock);
                        carry_out(run, i, w->ctx);
                        pthread_mutex_lock(&run->lock);
                }
                run->slots[i].state = SLOT_OVER;
                pthread_cond_broadcast(&run->changed);
        }
        pthread_mutex_unlock(&run->lock);
        return NULL;
}

/* One step, one action at a time, on this thread. */
static void step_in_order(apply_run *run, void *ctx) {
        for (size_t i = run->lo; i < run->hi; i++) {
                if (!skip_if_blocked(run, i))
                        carry_out(run, i, ctx);
                run->slots[i].state = SLOT_OVER;
                report_ready(run);
        }
}

/* One step on the driver's workers; this thread reports as they go. False: no thread could
 * be started (nothing was carried out). */
static bool step_at_once(apply_run *run, const pf_driver *drv) {
        size_t n = drv->n_workers < run->hi - run->lo ? drv->n_workers : run->hi - run->lo, started = 0;
        _cleanup_free_ worker *ws = pf_xcalloc(n, sizeof(*ws));
        run->next = run->lo;
        for (; started < n; started++) {
                ws[started] = (worker) { .run = run, .ctx = drv->worker_ctx[started] };
                if (pthread_create(&ws[started].thread, NULL, work, &ws[started]) != 0)
                        break;  /* fewer workers: the started ones take every action */
        }
        if (!started)
                return false;
        pthread_mutex_lock(&run->lock);
        for (;;) {
                report_ready(run);
                if (run->reported == run->hi)
                        break;
                pthread_cond_wait(&run->changed, &run->lock);
        }
        pthread_mutex_unlock(&run->lock);
        for (size_t w = 0; w < started; w++)
                pthread_join(ws[w].thread, NULL);
        return true;
}

/* The end of the step that starts at action lo: the actions after it of its kind and
 * direction. */
static size_t step_end(const pf_plan *p, size_t lo) {
        const pf_action *first = &p->actions.v[lo];
        size_t hi = lo + 1;
        while (hi < p->actions.n && p->actions.v[hi].kind == first->kind &&
               (p->actions.v[hi].op == PF_OP_DELETE) == (first->op == PF_OP_DELETE))
                hi++;
        return hi;
}

pf_apply_result pf_apply_plan(const pf_plan *p, const pf_driver *const drivers[_PF_R_MAX], FILE *report, bool color) {
        apply_run run = { .p = p, .drivers = drivers, .report = report, .color = color };
        run.slots = pf_xcalloc(p->actions.n ? p->actions.n : 1, sizeof(*run.slots));
        pthread_mutex_init(&run.lock, NULL);
        pthread_cond_init(&run.changed, NULL);
        for (size_t lo = 0; lo < p->actions.n; lo = run.hi) {
                run.lo = lo;
                run.hi = step_end(p, lo);
                const pf_driver *drv = drivers[p->actions.v[lo].kind];
                bool at_once = drv && drv->n_workers > 1 && run.hi - run.lo > 1 && step_at_once(&run, drv);
                if (!at_once)
                        step_in_order(&run, drv ? drv->ctx : NULL);
        }
        pthread_cond_destroy(&run.changed);
        pthread_mutex_destroy(&run.lock);
        free(run.slots);
        return run.r;
}
