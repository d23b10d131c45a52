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

/* A step: the plan's actions [lo, hi), of one kind and direction. */
typedef struct step {
        size_t lo, hi;
        pf_rkind kind;
        bool deleting;
        size_t next;                    /* its first action not yet started */
        size_t running, over;
} step;

/* One apply: the plan, the steps carried out together now ([first, last) of steps), and the
 * report so far. Workers share it under `lock`; `changed` is signalled when an action is over. */
typedef struct apply_run {
        const pf_plan *p;
        const pf_driver *const *drivers;
        const unsigned *after;
        slot *slots;
        step *steps;
        size_t n_steps, first, last;
        size_t hi;                      /* the end of the last step carried out now */
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

/* Whether step j must wait for step i, before it in the plan: creations wait for those of the
 * kinds theirs may need, deletions of a kind for those of the kinds that may need it. */
static bool waits_for(const apply_run *run, const step *j, const step *i) {
        if (!run->after)
                return true;
        return j->deleting ? (run->after[i->kind] >> j->kind) & 1 : (run->after[j->kind] >> i->kind) & 1;
}

/* The first action of step j not started whose dependencies are over, or SIZE_MAX. */
static size_t ready_in(const apply_run *run, const step *j) {
        for (size_t i = j->next; i < j->hi; i++) {
                const pf_action *a = &run->p->actions.v[i];
                bool ready = run->slots[i].state == SLOT_PENDING;
                for (size_t d = 0; ready && d < a->deps.n; d++)
                        ready = run->slots[a->deps.v[d]].state == SLOT_OVER;
                if (ready)
                        return i;
        }
        return SIZE_MAX;
}

/* The next action a worker takes, or SIZE_MAX: of the steps that may start, the one with the
 * fewest running (a step of slow actions, such as networks, does not wait behind 500 volumes),
 * then the earlier; within a step, in plan order. */
static size_t next_ready(apply_run *run, step **ret_step) {
        size_t best = SIZE_MAX;
        for (size_t j = run->first; j < run->last; j++) {
                step *s = &run->steps[j];
                if (s->next == s->hi || (best != SIZE_MAX && s->running >= (*ret_step)->running))
                        continue;
                bool may_start = true;
                for (size_t i = run->first; may_start && i < j; i++)
                        may_start = run->steps[i].over == run->steps[i].hi - run->steps[i].lo ||
                                    !waits_for(run, s, &run->steps[i]);
                size_t a = may_start ? ready_in(run, s) : SIZE_MAX;
                if (a != SIZE_MAX) {
                        best = a;
                        *ret_step = s;
                }
        }
        return best;
}

static bool all_started(const apply_run *run) {
        for (size_t j = run->first; j < run->last; j++)
                if (run->steps[j].next < run->steps[j].hi)
                        return false;
        return true;
}

typedef struct worker {
        apply_run *run;
        void *ctx;
        pthread_t thread;
} worker;

/* A worker takes actions as they become ready (next_ready) until every one has started. */
static void *work(void *arg) {
        worker *w = arg;
        apply_run *run = w->run;
        pthread_mutex_lock(&run->lock);
        while (!all_started(run)) {
                step *s = NULL;
                size_t i = next_ready(run, &s);
                if (i == SIZE_MAX) {    /* the rest wait for actions still running */
                        pthread_cond_wait(&run->changed, &run->lock);
                        continue;
                }
                run->slots[i].state = SLOT_RUNNING;
                s->running++;
                while (s->next < s->hi && run->slots[s->next].state != SLOT_PENDING)
                        s->next++;
                if (!skip_if_blocked(run, i)) {
                        pthread_mutex_unlock(&run->lock);
                        carry_out(run, i, w->ctx);
                        pthread_mutex_lock(&run->lock);
                }
                run->slots[i].state = SLOT_OVER;
                s->running--;
                s->over++;
                pthread_cond_broadcast(&run->changed);
        }
        pthread_mutex_unlock(&run->lock);
        return NULL;
}

/* Steps [first, last), one action at a time in plan order, on this thread. */
static void in_order(apply_run *run, void *ctx) {
        for (size_t i = run->steps[run->first].lo; i < run->hi; i++) {
                if (!skip_if_blocked(run, i))
                        carry_out(run, i, ctx);
                run->slots[i].state = SLOT_OVER;
                report_ready(run);
        }
}

/* Steps [first, last) on the driver's workers; this thread reports as they go. False: no
 * thread could be started (nothing was carried out). */
static bool at_once(apply_run *run, const pf_driver *drv) {
        size_t n = drv->n_workers, started = 0;
        _cleanup_free_ worker *ws = pf_xcalloc(n, sizeof(*ws));
        for (; started < n; started++) {
                ws[started] = (worker) { .run = run, .ctx = drv->worker_ctx[started] };
                if (pthread_create(&ws[started].thread, NULL, work, &ws[started]) != 0)
                        break;  /* fewer workers: the started ones take every action */
        }
        if (!started)
                return false;
        /* the report is written outside the lock (a slow terminal does not hold the workers
         * up): the actions reported are over, and no worker touches them again */
        pthread_mutex_lock(&run->lock);
        while (run->reported < run->hi) {
                size_t end = run->reported;
                while (end < run->hi && run->slots[end].state == SLOT_OVER)
                        end++;
                if (end == run->reported) {
                        pthread_cond_wait(&run->changed, &run->lock);
                        continue;
                }
                pthread_mutex_unlock(&run->lock);
                for (; run->reported < end; run->reported++)
                        report_one(run, run->reported);
                pthread_mutex_lock(&run->lock);
        }
        pthread_mutex_unlock(&run->lock);
        for (size_t w = 0; w < started; w++)
                pthread_join(ws[w].thread, NULL);
        return true;
}

/* The plan's steps: each run of consecutive actions of one kind and direction. */
static step *steps_of(const pf_plan *p, size_t *ret_n) {
        step *v = pf_xcalloc(p->actions.n ? p->actions.n : 1, sizeof(*v));
        size_t n = 0;
        for (size_t lo = 0, hi; lo < p->actions.n; lo = hi) {
                const pf_action *first = &p->actions.v[lo];
                bool deleting = first->op == PF_OP_DELETE;
                for (hi = lo + 1; hi < p->actions.n && p->actions.v[hi].kind == first->kind &&
                                  (p->actions.v[hi].op == PF_OP_DELETE) == deleting;
                     hi++)
                        ;
                v[n++] = (step) { .lo = lo, .hi = hi, .kind = first->kind, .deleting = deleting, .next = lo };
        }
        *ret_n = n;
        return v;
}

pf_apply_result pf_apply_plan(const pf_plan *p, const pf_driver *const drivers[_PF_R_MAX],
                              const unsigned after[_PF_R_MAX], FILE *report, bool color) {
        apply_run run = { .p = p, .drivers = drivers, .after = after, .report = report, .color = color };
        run.slots = pf_xcalloc(p->actions.n ? p->actions.n : 1, sizeof(*run.slots));
        run.steps = steps_of(p, &run.n_steps);
        pthread_mutex_init(&run.lock, NULL);
        pthread_cond_init(&run.changed, NULL);
        for (run.first = 0; run.first < run.n_steps; run.first = run.last) {
                /* together: the steps after it of one direction and a driver with workers */
                const step *s = &run.steps[run.first];
                const pf_driver *drv = drivers[s->kind];
                bool workers = drv && drv->n_workers > 1;
                run.last = run.first + 1;
                while (workers && run.last < run.n_steps && drivers[run.steps[run.last].kind] == drv &&
                       run.steps[run.last].deleting == s->deleting)
                        run.last++;
                run.hi = run.steps[run.last - 1].hi;
                if (!(workers && run.hi - s->lo > 1 && at_once(&run, drv)))
                        in_order(&run, drv ? drv->ctx : NULL);
        }
        pthread_cond_destroy(&run.changed);
        pthread_mutex_destroy(&run.lock);
        free(run.steps);
        free(run.slots);
        return run.r;
}
