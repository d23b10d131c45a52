/* plan_print.c: the plan as people read it (spec section 5) and as programs read it
 * (schemas/plan.schema.json). */
#include "config.h"
#include "engine/plan.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
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
        char buf[64];
        fputs(pf_size_format(bytes, buf), f);
}

/* A size-valued field in human units: memory ("N KiB") and a volume's capacity (bytes). The
 * value is the field's own otherwise; JSON keeps it exact. */
static void print_value(FILE *f, pf_rkind kind, const char *key, const char *value) {
        char *end;
        if (value && *value >= '0' && *value <= '9') {
                unsigned long long n = strtoull(value, &end, 10);
                if (!strcmp(key, "memory") && !strcmp(end, " KiB") && n <= UINT64_MAX / 1024) {
                        print_size(f, (uint64_t) n * 1024);
                        return;
                }
                if (kind == PF_R_VOLUME && !strcmp(key, "capacity") && !*end) {
                        print_size(f, n);
                        return;
                }
        }
        fputs(value ? value : "(none)", f);
}

/* The width of a value as print_value writes it; SIZE_MAX for one that would break the line
 * (control bytes). */
static size_t value_len(pf_rkind kind, const char *key, const char *value) {
        for (const unsigned char *c = (const unsigned char *) value; c && *c; c++)
                if (*c < 0x20 || *c == 0x7f)
                        return SIZE_MAX;
        char buf[64];
        FILE *f = fmemopen(buf, sizeof(buf), "w");
        if (!f)
                return SIZE_MAX;
        print_value(f, kind, key, value);
        long n = ftell(f);
        fclose(f);
        return n < 0 ? SIZE_MAX : (size_t) n;
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
        if (a->want && a->want->note)
                fprintf(f, " (%s)", a->want->note);
}

/* ---- device groups: a NIC or a disk said as one ---- */

/* One item of a change: a field, or a whole device group ("iface[lab]", "disk[vms/a]") added
 * or removed, which is one hot-plug however many fields it has. */
typedef struct item {
        size_t first, n;        /* changes [first, first + n) */
        char sign;              /* '+' group added, '-' removed, 0: one field */
        const char *word;       /* "iface", "disk": the key up to '[' */
        size_t word_len;
        const char *name;       /* between the brackets */
        size_t name_len;
        pf_landing landing;     /* the most disruptive of its fields */
} item;

/* The device group "iface[NAME]" or "disk[NAME]" a key starts, as its length, or 0. Other
 * keys of that form (a network's ip[...], a VM's recorded ip[IFACE]) are fields like any. */
static size_t group_len(const char *key) {
        const char *b = strchr(key, '[');
        if (!b || !((b - key == 5 && !strncmp(key, "iface", 5)) || (b - key == 4 && !strncmp(key, "disk", 4))))
                return 0;
        const char *e = strchr(b, ']');
        if (!e || (e[1] && e[1] != '.'))
                return 0;
        return (size_t) (e + 1 - key);
}

static bool in_group(const char *key, const char *g, size_t len) {
        return !strncmp(key, g, len) && (!key[len] || key[len] == '.');
}

/* o has a field of group g (the group exists on that side). */
static bool has_group(const pf_obj *o, const char *g, size_t len) {
        for (size_t i = 0; o && i < o->fields.n; i++)
                if (in_group(o->fields.v[i].key, g, len))
                        return true;
        return false;
}

/* The next item of a from change c on; *c moved past it. */
static item next_item(const pf_action *a, size_t *c) {
        const pf_change *x = &a->changes.v[*c];
        item it = { .first = *c, .n = 1, .landing = x->landing };
        size_t g = a->op != PF_OP_DELETE ? group_len(x->key) : 0;
        if (g) {
                size_t n = 1;
                bool added = !x->old_value, removed = !x->new_value;
                while (it.first + n < a->changes.n && in_group(a->changes.v[it.first + n].key, x->key, g)) {
                        const pf_change *y = &a->changes.v[it.first + n];
                        added &= !y->old_value;
                        removed &= !y->new_value;
                        n++;
                }
                if ((added && !has_group(a->have, x->key, g)) || (removed && !has_group(a->want, x->key, g))) {
                        const char *b = strchr(x->key, '[');
                        it = (item) { .first = *c, .n = n, .sign = added ? '+' : '-', .word = x->key,
                                      .word_len = (size_t) (b - x->key), .name = b + 1,
                                      .name_len = g - (size_t) (b - x->key) - 2 };
                        for (size_t k = 0; k < n; k++)
                                if (a->changes.v[it.first + k].landing > it.landing)
                                        it.landing = a->changes.v[it.first + k].landing;
                }
        }
        *c = it.first + it.n;
        return it;
}

/* The member "SUB" of a group item (".SUB" after the brackets, "" for the group's own field). */
static const pf_change *member(const pf_action *a, const item *it, const char *sub) {
        size_t g = it->word_len + it->name_len + 2;
        for (size_t k = 0; k < it->n; k++) {
                const char *key = a->changes.v[it->first + k].key;
                if (!strcmp(key + g + (key[g] == '.'), sub))
                        return &a->changes.v[it->first + k];
        }
        return NULL;
}

/* A group's members said first, without their names: a NIC's type and source, model, MAC. */
static const char *const first_members[] = { "", "type", "source", "model", "mac" };
#define N_FIRST (sizeof(first_members) / sizeof(first_members[0]))

static bool is_first(const char *sub) {
        for (size_t j = 0; j < N_FIRST; j++)
                if (!strcmp(sub, first_members[j]))
                        return true;
        return false;
}

/* What a group holds, e.g. "network lab, virtio, 52:54:00:00:00:01" or "dev=vdb bus=virtio":
 * a NIC's type and source, model and MAC first, then every other member as SUB=VALUE. */
static void print_group(FILE *f, const pf_action *a, const item *it) {
        const char *sep = "";
        for (size_t j = 0; j < N_FIRST; j++) {
                const pf_change *x = member(a, it, first_members[j]);
                if (!x)
                        continue;
                fprintf(f, "%s%s", j == 2 && member(a, it, "type") ? " " : sep,
                        it->sign == '+' ? x->new_value : x->old_value);
                sep = ", ";
        }
        size_t g = it->word_len + it->name_len + 2;
        for (size_t k = 0; k < it->n; k++) {
                const pf_change *x = &a->changes.v[it->first + k];
                const char *sub = x->key + g + (x->key[g] == '.');
                if (is_first(sub))
                        continue;
                fprintf(f, "%s%s=%s", sep, sub, it->sign == '+' ? x->new_value : x->old_value);
                sep = ", ";
        }
}

/* One item of the summary, e.g. "memory 1 GiB -> 768 MiB" or "+iface lan [live]". Long
 * values are left to -v. */
static void print_item(FILE *f, const pf_action *a, const item *it) {
        const pf_change *x = &a->changes.v[it->first];
        if (it->sign) {
                fprintf(f, "%c%.*s %.*s", it->sign, (int) it->word_len, it->word, (int) it->name_len, it->name);
        } else if (value_len(a->kind, x->key, x->old_value) <= 40 && value_len(a->kind, x->key, x->new_value) <= 40 &&
                   value_len(a->kind, x->key, x->old_value) + value_len(a->kind, x->key, x->new_value) <= 40) {
                fprintf(f, "%s ", x->key);
                print_value(f, a->kind, x->key, x->old_value);
                fputs(" -> ", f);
                print_value(f, a->kind, x->key, x->new_value);
        } else {
                fputs(x->key, f);
        }
        if (it->landing != a->landing)
                fprintf(f, " [%s]", pf_landing_name(it->landing));
}

/* The one-line summary of a change: its items, the most disruptive first, each with its
 * landing when that is not the action's; past SUMMARY_WIDTH, how many more -v lists. */
#define SUMMARY_WIDTH 100
static void print_summary(FILE *f, const pf_action *a, size_t head_len) {
        size_t width = head_len, n_items = 0, shown = 0;
        /* what decides the action's landing first */
        for (int l = _PF_LAND_MAX - 1; l >= 0; l--)
        for (size_t c = 0; c < a->changes.n;) {
                item it = next_item(a, &c);
                if (it.landing != (pf_landing) l)
                        continue;
                n_items++;
                char buf[256];
                FILE *m = fmemopen(buf, sizeof(buf), "w");
                if (!m)
                        continue;
                print_item(m, a, &it);
                long len = ftell(m);
                fclose(m);
                if (len < 0 || (size_t) len >= sizeof(buf) || (shown && width + 2 + (size_t) len > SUMMARY_WIDTH))
                        continue;
                if (shown < n_items - 1) /* an item was left out: keep the order, stop here */
                        continue;
                fputs(shown ? ", " : "  ", f);
                fputs(buf, f);
                width += 2 + (size_t) len;
                shown++;
        }
        if (shown < n_items)
                fprintf(f, "%s%zu more (-v lists them)", shown ? ", " : "  ", n_items - shown);
}

/* -v: every field, a device group added or removed as one line. */
static void print_details(FILE *f, const pf_action *a) {
        for (size_t c = 0; c < a->changes.n;) {
                item it = next_item(a, &c);
                const pf_change *x = &a->changes.v[it.first];
                if (a->op == PF_OP_CREATE) {
                        fprintf(f, "    %.*s: ", it.sign ? (int) (it.word_len + it.name_len + 2) : (int) strlen(x->key),
                                x->key);
                        if (it.sign && it.n > 1)
                                print_group(f, a, &it);
                        else
                                print_value(f, a->kind, x->key, x->new_value);
                        fputc('\n', f);
                        continue;
                }
                if (it.sign) {
                        fprintf(f, "    %c %.*s %.*s (", it.sign, (int) it.word_len, it.word, (int) it.name_len, it.name);
                        print_group(f, a, &it);
                        fprintf(f, ")  [%s]\n", pf_landing_name(it.landing));
                        continue;
                }
                fprintf(f, "    %s: ", x->key);
                print_value(f, a->kind, x->key, x->old_value);
                fputs(" -> ", f);
                print_value(f, a->kind, x->key, x->new_value);
                fprintf(f, "  [%s]\n", pf_landing_name(x->landing));
        }
}

/* What the plan does not do but the reader should know, under its own heading. */
static void print_notices(const pf_plan *p, FILE *f) {
        if (!p->orphans.n && !p->stale.n)
                return;
        fputs("Notices:\n", f);
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
}

/* The columns the head takes, without color: the same wherever the plan goes (f may be a pipe,
 * where ftell cannot tell). */
static size_t head_width(const pf_action *a) {
        char buf[512];
        FILE *m = fmemopen(buf, sizeof(buf), "w");
        if (!m)
                return 0;
        pf_action_print_head(a, m, false);
        long n = ftell(m);
        fclose(m);
        return n < 0 ? 0 : (size_t) n;
}

void pf_plan_print_text(const pf_plan *p, FILE *f, bool color, bool verbose) {
        for (size_t i = 0; i < p->actions.n; i++) {
                const pf_action *a = &p->actions.v[i];
                pf_action_print_head(a, f, color);
                if (!verbose && a->op == PF_OP_CHANGE)
                        print_summary(f, a, head_width(a));
                fputc('\n', f);
                if (verbose && a->op != PF_OP_DELETE)
                        print_details(f, a);
        }
        print_notices(p, f);
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
                if (a->want && a->want->note) {
                        fputs(",\"note\":", f);
                        json_str(f, a->want->note);
                }
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

void pf_attach_print_text(const pf_attach_result *r, FILE *f, bool verbose) {
        size_t n_shown = 0;
        for (size_t k = 0; r && k < r->n; k++)
                n_shown += verbose || !r->v[k].placed;
        if (!n_shown)
                return;
        pf_arena a = { 0 };
        fputs("Attachments (see " PF_MAN_RESOLUTION "):\n", f);
        const pf_attachment *shared = NULL;     /* the first with the pod decision's list */
        for (size_t k = 0; k < r->n; k++) {
                const pf_attachment *x = &r->v[k];
                char ip[64];
                if (!verbose && x->placed)
                        continue;
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
        if (n_shown < r->n)
                fprintf(f, "  (%zu more already in place; -v lists them)\n", r->n - n_shown);
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
