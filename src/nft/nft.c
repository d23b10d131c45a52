/* nft.c: the nftables transport (nft.h). Rules are written in nft's own syntax, the one input
 * libnftables takes besides its JSON; every value in them is checked first (comments against a
 * closed alphabet, addresses formatted from parsed ones, numbers as numbers), so nothing a
 * configuration says can end up as syntax. The table is read back as JSON (nft -j), which
 * jansson parses: libnftables itself links jansson for that output, so the program gains no
 * library the host did not already load. */
#include "config.h"
#include "nft/nft.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>
#include <nftables/libnftables.h>

#include "config/values.h"
#include "util/xalloc.h"

struct pf_nft {
        struct nft_ctx *ctx;
        bool exists;
        char *unreadable;
        pf_nft_rule *rules;
        bool *gone;
        size_t n_rules;
        unsigned long mutations;
};

pf_nft *pf_nft_open(char **err) {
        struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!ctx) {
                *err = pf_xstrdup("cannot create an nftables context (libnftables)");
                return NULL;
        }
        if (nft_ctx_buffer_output(ctx) || nft_ctx_buffer_error(ctx)) {
                nft_ctx_free(ctx);
                *err = pf_xstrdup("cannot buffer libnftables' output");
                return NULL;
        }
        pf_nft *n = pf_xcalloc(1, sizeof(*n));
        n->ctx = ctx;
        return n;
}

static void rule_free(pf_nft_rule *r) {
        free(r->chain);
        free(r->comment);
        free(r->saddr);
        free(r->daddr_except);
        free(r->proto);
        free(r->dnat_addr);
}

static void rules_clear(pf_nft *n) {
        for (size_t i = 0; i < n->n_rules; i++)
                rule_free(&n->rules[i]);
        free(n->rules);
        free(n->gone);
        n->rules = NULL;
        n->gone = NULL;
        n->n_rules = 0;
        n->exists = false;
        free(n->unreadable);
        n->unreadable = NULL;
}

void pf_nft_close(pf_nft *n) {
        if (!n)
                return;
        rules_clear(n);
        nft_ctx_free(n->ctx);
        free(n);
}

/* nft's error text, one line, without the caret lines it draws under the command. */
static char *nft_error(pf_nft *n) {
        const char *e = nft_ctx_get_error_buffer(n->ctx);
        size_t len = e ? strcspn(e, "\n") : 0;
        return len ? pf_xstrndup(e, len) : pf_xstrdup("libnftables refused it without saying why");
}

/* ---- reading the table ---- */

static char *dup_str(json_t *v) { return json_is_string(v) ? pf_xstrdup(json_string_value(v)) : NULL; }

static bool payload_is(json_t *left, const char *proto, const char *field) {
        json_t *p = json_object_get(left, "payload");
        const char *pr = json_string_value(json_object_get(p, "protocol")), *f = json_string_value(json_object_get(p, "field"));
        return pr && f && (!proto || !strcmp(pr, proto)) && !strcmp(f, field);
}

/* A set element as nft writes it: "10.0.2.0/24" or "255.255.255.255". */
static char *element_text(json_t *e) {
        if (json_is_string(e))
                return pf_xstrdup(json_string_value(e));
        json_t *p = json_object_get(e, "prefix");
        const char *addr = json_string_value(json_object_get(p, "addr"));
        json_t *len = json_object_get(p, "len");
        if (addr && json_is_integer(len))
                return pf_xasprintf("%s/%lld", addr, (long long) json_integer_value(len));
        return NULL;
}

static char *set_text(json_t *right) {
        json_t *set = json_object_get(right, "set");
        if (!json_is_array(set))
                return element_text(right);
        char *text = pf_xstrdup("");
        size_t i;
        json_t *e;
        json_array_foreach(set, i, e) {
                char *t = element_text(e);
                if (!t) {
                        free(text);
                        return NULL;
                }
                char *joined = pf_xasprintf("%s%s%s", text, *text ? "," : "", t);
                free(t);
                free(text);
                text = joined;
        }
        return text;
}

/* One statement of a rule into r; false: not one podform writes. */
static bool read_stmt(json_t *stmt, pf_nft_rule *r) {
        json_t *m = json_object_get(stmt, "match");
        if (m) {
                const char *op = json_string_value(json_object_get(m, "op"));
                json_t *left = json_object_get(m, "left"), *right = json_object_get(m, "right");
                bool eq = op && !strcmp(op, "==");
                if (eq && payload_is(left, "ip", "saddr") && json_is_string(right) && !r->saddr)
                        return (r->saddr = dup_str(right)) != NULL;
                if (op && !strcmp(op, "!=") && payload_is(left, "ip", "daddr") && !r->daddr_except)
                        return (r->daddr_except = set_text(right)) != NULL;
                if (eq && json_object_get(left, "fib") && json_is_string(right) &&
                    !strcmp(json_string_value(right), "local")) {
                        json_t *fib = json_object_get(left, "fib");
                        const char *res = json_string_value(json_object_get(fib, "result"));
                        json_t *flags = json_object_get(fib, "flags");
                        return (r->fib_local = res && !strcmp(res, "type") && json_array_size(flags) == 1 &&
                                               json_is_string(json_array_get(flags, 0)) &&
                                               !strcmp(json_string_value(json_array_get(flags, 0)), "daddr"));
                }
                if (eq && payload_is(left, NULL, "dport") && json_is_integer(right) && !r->proto) {
                        const char *proto = json_string_value(json_object_get(json_object_get(left, "payload"), "protocol"));
                        if (strcmp(proto, "tcp") && strcmp(proto, "udp"))
                                return false;
                        r->proto = pf_xstrdup(proto);
                        r->dport = (unsigned) json_integer_value(right);
                        return true;
                }
                return false;
        }
        json_t *dnat = json_object_get(stmt, "dnat");
        if (dnat && !r->dnat_addr) {
                json_t *port = json_object_get(dnat, "port");
                r->dnat_addr = dup_str(json_object_get(dnat, "addr"));
                r->dnat_port = json_is_integer(port) ? (unsigned) json_integer_value(port) : 0;
                return r->dnat_addr && r->dnat_port && json_object_size(dnat) == 2;
        }
        if (json_object_get(stmt, "masquerade") && json_is_null(json_object_get(stmt, "masquerade")) && !r->masquerade)
                return (r->masquerade = true);
        return false;
}

static void read_rule(json_t *rule, pf_nft_rule *r) {
        r->chain = pf_xstrdup(json_string_value(json_object_get(rule, "chain")) ? json_string_value(json_object_get(rule, "chain")) : "");
        json_t *h = json_object_get(rule, "handle");
        r->handle = json_is_integer(h) ? (uint64_t) json_integer_value(h) : 0;
        r->comment = dup_str(json_object_get(rule, "comment"));
        size_t i;
        json_t *stmt;
        json_array_foreach(json_object_get(rule, "expr"), i, stmt)
                if (!read_stmt(stmt, r))
                        r->other = true;
}

static int parse_listing(pf_nft *n, const char *text, char **err) {
        json_error_t je;
        json_t *root = json_loads(text, 0, &je);
        json_t *items = json_object_get(root, "nftables");
        if (!json_is_array(items)) {
                *err = pf_xasprintf("cannot read nftables table ip %s: libnftables' JSON does not parse (%s, line %d)",
                                    PF_NFT_TABLE, je.text, je.line);
                json_decref(root);
                return -1;
        }
        size_t i, cap = 0;
        json_t *item;
        json_array_foreach(items, i, item) {
                n->exists |= json_object_get(item, "table") != NULL;
                json_t *rule = json_object_get(item, "rule");
                if (!rule)
                        continue;
                if (n->n_rules == cap) {
                        cap = cap ? 2 * cap : 16;
                        n->rules = pf_xreallocarray(n->rules, cap, sizeof(*n->rules));
                }
                n->rules[n->n_rules] = (pf_nft_rule) { 0 };
                read_rule(rule, &n->rules[n->n_rules++]);
        }
        n->gone = pf_xcalloc(n->n_rules + 1, sizeof(*n->gone));
        json_decref(root);
        return 0;
}

int pf_nft_observe(pf_nft *n, char **err) {
        rules_clear(n);
        unsigned flags = nft_ctx_output_get_flags(n->ctx);
        nft_ctx_output_set_flags(n->ctx, flags | NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
        errno = 0;
        int r = nft_run_cmd_from_buffer(n->ctx, "list table ip " PF_NFT_TABLE);
        int saved = errno;
        nft_ctx_output_set_flags(n->ctx, flags);
        if (r != 0) {
                _cleanup_free_ char *why = nft_error(n);
                if (saved == ENOENT || strstr(why, "No such file or directory")) {
                        n->gone = pf_xcalloc(1, sizeof(*n->gone));
                        return 0;       /* no table yet */
                }
                /* not root, no nf_tables in this kernel, a sandbox: a plan with no masquerade
                 * interface needs no table, and one with them says why it cannot forward */
                n->gone = pf_xcalloc(1, sizeof(*n->gone));
                n->unreadable = pf_xasprintf("cannot list nftables table ip %s: %s", PF_NFT_TABLE, why);
                return 0;
        }
        return parse_listing(n, nft_ctx_get_output_buffer(n->ctx), err);
}

const char *pf_nft_unreadable(const pf_nft *n) { return n->unreadable; }
bool pf_nft_table_exists(const pf_nft *n) { return n->exists; }
size_t pf_nft_n_rules(const pf_nft *n) { return n->n_rules; }
const pf_nft_rule *pf_nft_rule_at(const pf_nft *n, size_t i) { return i < n->n_rules ? &n->rules[i] : NULL; }
bool pf_nft_rule_gone(const pf_nft *n, size_t i) { return i < n->n_rules && n->gone[i]; }

/* ---- writing ---- */

void pf_nft_batch_init(pf_nft_batch *b) { *b = (pf_nft_batch) { 0 }; }

void pf_nft_batch_free(pf_nft_batch *b) {
        free(b->text);
        free(b->bad);
        free(b->deleted);
        *b = (pf_nft_batch) { 0 };
}

__attribute__((format(printf, 2, 3)))
static void emit(pf_nft_batch *b, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *line = NULL;
        if (vasprintf(&line, fmt, ap) < 0)
                pf_oom();
        va_end(ap);
        size_t n = strlen(line);
        if (b->len + n + 2 > b->cap) {
                b->cap = (b->len + n + 2) * 2;
                b->text = pf_xreallocarray(b->text, b->cap, 1);
        }
        memcpy(b->text + b->len, line, n);
        b->len += n;
        b->text[b->len++] = '\n';
        b->text[b->len] = '\0';
        free(line);
}

__attribute__((format(printf, 2, 3)))
static void refuse(pf_nft_batch *b, const char *fmt, ...) {
        if (b->bad)
                return;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&b->bad, fmt, ap) < 0)
                pf_oom();
        va_end(ap);
}

/* A comment goes inside double quotes: letters, digits and "_.-/" only (names podform made). */
static bool comment_ok(pf_nft_batch *b, const char *comment) {
        size_t len = comment ? strlen(comment) : 0;
        bool ok = len > 0 && len <= 128 && strspn(comment, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                                   "0123456789_.-/") == len;
        if (!ok)
                refuse(b, "nftables rule comment '%s' holds characters podform never writes there", comment ? comment : "");
        return ok;
}

static bool ipv4_ok(pf_nft_batch *b, const pf_ip *ip, char *buf) {
        if (ip->family != AF_INET) {
                refuse(b, "podform's nftables rules are IPv4 only");
                return false;
        }
        pf_ip_format(ip, buf);
        return true;
}

static bool chain_ok(pf_nft_batch *b, const char *chain) {
        bool ok = !strcmp(chain, "prerouting") || !strcmp(chain, "output") || !strcmp(chain, "postrouting");
        if (!ok)
                refuse(b, "no chain '%s' in podform's nftables table", chain);
        return ok;
}

void pf_nft_add_base(pf_nft_batch *b) {
        emit(b, "add table ip " PF_NFT_TABLE);
        emit(b, "add chain ip " PF_NFT_TABLE " prerouting { type nat hook prerouting priority dstnat; policy accept; }");
        emit(b, "add chain ip " PF_NFT_TABLE " output { type nat hook output priority -100; policy accept; }");
        emit(b, "add chain ip " PF_NFT_TABLE " postrouting { type nat hook postrouting priority srcnat; policy accept; }");
}

void pf_nft_add_masquerade(pf_nft_batch *b, const char *comment, const pf_ip *saddr, const pf_cidr *range) {
        char src[64], net[64];
        if (!comment_ok(b, comment) || !ipv4_ok(b, saddr, src) || !ipv4_ok(b, &range->ip, net))
                return;
        emit(b, "add rule ip " PF_NFT_TABLE " postrouting ip saddr %s ip daddr != { %s/%u, 224.0.0.0/24, "
             "255.255.255.255 } masquerade comment \"%s\"", src, net, (unsigned) range->prefix, comment);
}

void pf_nft_add_dnat(pf_nft_batch *b, const char *chain, const char *comment, pf_protocol proto, unsigned port,
                     const pf_ip *addr) {
        char to[64];
        if (!chain_ok(b, chain) || !comment_ok(b, comment) || !ipv4_ok(b, addr, to))
                return;
        if (port < 1 || port > 65535) {
                refuse(b, "port %u is outside 1..65535", port);
                return;
        }
        const char *p = proto == PF_PROTO_UDP ? "udp" : "tcp";
        emit(b, "add rule ip " PF_NFT_TABLE " %s %sfib daddr type local %s dport %u dnat to %s:%u comment \"%s\"", chain,
             !strcmp(chain, "output") ? "ip daddr != " PF_NFT_LOOPBACK " " : "", p, port, to, port, comment);
}

void pf_nft_delete_rule(pf_nft_batch *b, const pf_nft *n, size_t i) {
        const pf_nft_rule *r = pf_nft_rule_at(n, i);
        if (!r || !chain_ok(b, r->chain))
                return;
        emit(b, "delete rule ip " PF_NFT_TABLE " %s handle %llu", r->chain, (unsigned long long) r->handle);
        b->deleted = pf_xreallocarray(b->deleted, b->n_deleted + 1, sizeof(*b->deleted));
        b->deleted[b->n_deleted++] = i;
}

void pf_nft_delete_table(pf_nft_batch *b) { emit(b, "delete table ip " PF_NFT_TABLE); }

int pf_nft_run(pf_nft *n, pf_nft_batch *b, char **err) {
        if (b->bad) {
                *err = pf_xstrdup(b->bad);
                return -1;
        }
        if (!b->len)
                return 0;
        n->mutations++;
        if (nft_run_cmd_from_buffer(n->ctx, b->text) != 0) {
                _cleanup_free_ char *why = nft_error(n);
                *err = pf_xasprintf("nftables refused the change to table ip %s: %s", PF_NFT_TABLE, why);
                return -1;
        }
        for (size_t i = 0; i < b->n_deleted; i++)
                n->gone[b->deleted[i]] = true;
        return 0;
}

unsigned long pf_nft_mutations(const pf_nft *n) { return n ? n->mutations : 0; }
