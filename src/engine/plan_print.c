/* plan_print.c: the plan as people read it (spec section 5) and as programs read it
 * (schemas/plan.schema.json). */
#include "config.h"
#include "engine/plan.h"

#include <inttypes.h>
#include <string.h>

#include "config/values.h"
#include "model/names.h"

static const char *sign(const pf_action *a) {
        if (a->disruptive)
                return "!";
        return a->op == PF_OP_CREATE ? "+" : a->op == PF_OP_CHANGE ? "~" : "-";
}

static const char *sign_color(const pf_action *a) {
        if (a->disruptive)
                return "\033[1;33m";
        return a->op == PF_OP_CREATE ? "\033[32m" : a->op == PF_OP_CHANGE ? "\033[33m" : "\033[31m";
}

static void print_size(FILE *f, uint64_t bytes) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        double v = (double) bytes;
        size_t u = 0;
        while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
                v /= 1024;
                u++;
        }
        fprintf(f, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void pf_action_print_head(const pf_action *a, FILE *f, bool color) {
        fprintf(f, "%s%s%s %s %s", color ? sign_color(a) : "", sign(a), color ? "\033[0m" : "",
                pf_rkind_name(a->kind), a->name);
        if (a->op == PF_OP_DELETE) {
                if (a->kind == PF_R_VOLUME) {
                        fputs(" (capacity ", f);
                        print_size(f, a->have->size);
                        fputs(")", f);
                }
                if (a->disruptive)
                        fputs(" (running: it is stopped first)", f);
                return;
        }
        if (a->op == PF_OP_CHANGE) {
                fprintf(f, " (%s%s%s)", a->restart ? "restarted now" : pf_landing_name(a->landing),
                        a->disruptive && a->landing == PF_LAND_LIVE ? ", stops it" : "",
                        a->adopted ? "; not created by podform: only declared fields are managed" : "");
        }
}

void pf_plan_print_text(const pf_plan *p, FILE *f, bool color, bool verbose) {
        for (size_t i = 0; i < p->actions.n; i++) {
                const pf_action *a = &p->actions.v[i];
                pf_action_print_head(a, f, color);
                fputc('\n', f);
                if (a->op == PF_OP_CHANGE || (a->op == PF_OP_CREATE && verbose))
                        for (size_t c = 0; c < a->changes.n; c++) {
                                const pf_change *x = &a->changes.v[c];
                                if (a->op == PF_OP_CREATE)
                                        fprintf(f, "    %s: %s\n", x->key, x->new_value);
                                else
                                        fprintf(f, "    %s: %s -> %s  [%s]\n", x->key, x->old_value ? x->old_value : "(none)",
                                                x->new_value ? x->new_value : "(none)", pf_landing_name(x->landing));
                        }
        }
        for (size_t i = 0; i < p->orphans.n; i++) {
                const pf_orphan *x = &p->orphans.v[i];
                if (x->used_by)
                        fprintf(f, "  %s %s is podform's but no longer declared; kept while running %s %s uses it "
                                "(until it restarts; --allow-restart restarts it now)\n", pf_rkind_name(x->obj->kind),
                                x->obj->name, pf_rkind_name(x->used_by->kind), x->used_by->name);
                else
                        fprintf(f, "  %s %s is podform's but no longer declared; --prune deletes it\n",
                                pf_rkind_name(x->obj->kind), x->obj->name);
        }
        for (size_t i = 0; i < p->stale.n; i++)
                fprintf(f, "  %s %s runs an older definition than the one written; it takes effect when the VM "
                        "restarts (--allow-restart restarts it now)\n", pf_rkind_name(p->stale.v[i]->kind), p->stale.v[i]->name);
        if (pf_plan_empty(p)) {
                fputs("No changes: the host matches the configuration.\n", f);
                return;
        }
        fprintf(f, "Plan: %zu to create, %zu to change, %zu to delete", p->n_create, p->n_change, p->n_delete);
        if (p->n_disruptive)
                fprintf(f, "; %zu marked ! disrupt running guests or need a restart", p->n_disruptive);
        fputs(".\n", f);
}

static void json_str(FILE *f, const char *s) {
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
                switch (*c) {
                case '"': fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\n': fputs("\\n", f); break;
                case '\t': fputs("\\t", f); break;
                default:
                        if (*c < 0x20)
                                fprintf(f, "\\u%04x", *c);
                        else
                                fputc(*c, f);
                }
        }
        fputc('"', f);
}

void pf_plan_print_json(const pf_plan *p, FILE *f, const char *host, const char *uri, const pf_attach_result *attach) {
        static const char *const ops[] = { "create", "change", "delete" };
        fputs("{\"format_version\":1,\"host\":", f);
        json_str(f, host ? host : "");
        fputs(",\"connect\":", f);
        json_str(f, uri ? uri : "");
        fputs(",\"actions\":[", f);
        for (size_t i = 0; i < p->actions.n; i++) {
                const pf_action *a = &p->actions.v[i];
                fprintf(f, "%s{\"index\":%zu,\"op\":\"%s\",\"kind\":\"%s\",\"name\":", i ? "," : "", i, ops[a->op],
                        pf_rkind_name(a->kind));
                json_str(f, a->name);
                fprintf(f, ",\"landing\":\"%s\",\"disruptive\":%s,\"restart\":%s,\"adopted\":%s",
                        pf_landing_name(a->landing), a->disruptive ? "true" : "false", a->restart ? "true" : "false",
                        a->adopted ? "true" : "false");
                if (a->op == PF_OP_DELETE && a->kind == PF_R_VOLUME)
                        fprintf(f, ",\"size\":%" PRIu64, a->have->size);
                fputs(",\"depends_on\":[", f);
                for (size_t d = 0; d < a->deps.n; d++)
                        fprintf(f, "%s%zu", d ? "," : "", a->deps.v[d]);
                fputs("],\"changes\":[", f);
                for (size_t c = 0; c < a->changes.n; c++) {
                        const pf_change *x = &a->changes.v[c];
                        fputs(c ? ",{\"field\":" : "{\"field\":", f);
                        json_str(f, x->key);
                        fputs(",\"old\":", f);
                        json_str(f, x->old_value);
                        fputs(",\"new\":", f);
                        json_str(f, x->new_value);
                        fprintf(f, ",\"landing\":\"%s\"}", pf_landing_name(x->landing));
                }
                fputs("]}", f);
        }
        fputs("],\"orphans\":[", f);
        for (size_t i = 0; i < p->orphans.n; i++) {
                const pf_orphan *x = &p->orphans.v[i];
                fprintf(f, "%s{\"kind\":\"%s\",\"name\":", i ? "," : "", pf_rkind_name(x->obj->kind));
                json_str(f, x->obj->name);
                if (x->used_by) {
                        fprintf(f, ",\"used_by\":{\"kind\":\"%s\",\"name\":", pf_rkind_name(x->used_by->kind));
                        json_str(f, x->used_by->name);
                        fputc('}', f);
                }
                fputc('}', f);
        }
        fputs("],\"pending_restart\":[", f);
        for (size_t i = 0; i < p->stale.n; i++) {
                fputs(i ? "," : "", f);
                json_str(f, p->stale.v[i]->name);
        }
        fputs("],\"attachments\":", f);
        pf_attach_print_json(attach, f);
        fprintf(f, ",\"summary\":{\"create\":%zu,\"change\":%zu,\"delete\":%zu,\"disruptive\":%zu}}\n", p->n_create,
                p->n_change, p->n_delete, p->n_disruptive);
}

/* ---- attachments (resolve/attach.h) ---- */

void pf_attach_print_text(const pf_attach_result *r, FILE *f) {
        if (!r || !r->n)
                return;
        pf_arena a = { 0 };
        fputs("Attachments (see " PF_MAN_RESOLUTION "):\n", f);
        const pf_attachment *shared = NULL;     /* the first with the pod decision's list */
        for (size_t k = 0; k < r->n; k++) {
                const pf_attachment *x = &r->v[k];
                char ip[64];
                fprintf(f, "  vm %s interface %s: %s", x->vm->meta.name, x->iface->name ? x->iface->name : "?",
                        pf_attachment_target(&a, x));
                if (x->has_ip)
                        fprintf(f, ", ip %s", pf_ip_format(&x->ip, ip));
                if (x->rule == PF_RULE_CONSTRAINTS)
                        fprintf(f, "  [constraints%s%s]\n", x->by_d ? ", by d" : "", x->kept ? ", kept" : "");
                else if (x->rule == PF_RULE_BINDING)
                        fprintf(f, "  [pod network, by its binding]\n");
                else
                        fprintf(f, "  [pod network, %s%s%s]\n", pf_attach_rule_label(x->rule), x->by_d ? " by d" : "",
                                x->kept ? ", kept" : "");
                fprintf(f, "      why: %s\n", x->reason);
                /* pod interfaces share one decision: its alternatives are listed once */
                if (x->shares_passed_over && x->n_passed_over && shared) {
                        fprintf(f, "      passed over: as for vm %s interface %s\n", shared->vm->meta.name,
                                shared->iface->name ? shared->iface->name : "?");
                        continue;
                }
                if (x->shares_passed_over && !shared)
                        shared = x;
                for (size_t j = 0; j < x->n_passed_over; j++)
                        fprintf(f, "      passed over: %s\n", x->passed_over[j]);
        }
        pf_arena_free(&a);
}

void pf_attach_print_json(const pf_attach_result *r, FILE *f) {
        fputc('[', f);
        for (size_t k = 0; r && k < r->n; k++) {
                const pf_attachment *x = &r->v[k];
                static const char *const types[] = { "network", "bridge", "direct", "user" };
                fputs(k ? ",{" : "{", f);
                fputs("\"vm\":", f);
                json_str(f, x->vm->meta.name);
                fputs(",\"interface\":", f);
                json_str(f, x->iface->name ? x->iface->name : "");
                fputs(",\"network\":", f);
                json_str(f, x->net->name ? x->net->name : "");
                fputs(",\"rule\":", f);
                json_str(f, pf_attach_rule_name(x->rule));
                fprintf(f, ",\"by_d\":%s,\"kept\":%s,\"target\":{\"type\":\"%s\",\"source\":", x->by_d ? "true" : "false",
                        x->kept ? "true" : "false", types[x->target]);
                json_str(f, x->source);
                if (x->target == PF_TARGET_DIRECT) {
                        fputs(",\"mode\":", f);
                        json_str(f, pf_enum_name(&pf_macvlan_mode_enum, x->mode));
                }
                fputs("},\"subnet\":", f);
                if (x->subnet) {
                        json_str(f, x->subnet->meta.name);
                        if (x->free == UINT64_MAX)
                                fputs(",\"free_addresses\":null", f);
                        else
                                fprintf(f, ",\"free_addresses\":%llu", (unsigned long long) x->free);
                } else {
                        fputs("null", f);
                }
                fputs(",\"ip\":", f);
                if (x->has_ip) {
                        char ip[64];
                        json_str(f, pf_ip_format(&x->ip, ip));
                } else {
                        fputs("null", f);
                }
                fputs(",\"reason\":", f);
                json_str(f, x->reason);
                fputs(",\"passed_over\":[", f);
                for (size_t j = 0; j < x->n_passed_over; j++) {
                        if (j)
                                fputc(',', f);
                        json_str(f, x->passed_over[j]);
                }
                fputs("]}", f);
        }
        fputc(']', f);
}
