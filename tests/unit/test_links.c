/* test_links.c: host links (Bridge, Macvlan, Macvtap) applied for real, each test in network
 * namespaces of its own, with veth pairs as the host's NICs. Every check reads the kernel back
 * with iproute2 (`ip -j -d addr show`), never through podform's own observation.
 *
 * Linked with -Wl,--wrap=nl_send_sync: every netlink change podform makes goes through that one
 * libnl call, so a test counts them and makes the N-th one fail, as test_engine.c does for
 * libvirt. Needs root (CLONE_NEWNET); otherwise the program is skipped (exit 77). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <net/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <cmocka.h>

#include "run/exit.h"
#include "config/load.h"
#include "config/validate.h"
#include "libvirt/conn.h"
#include "netlink/rtnl.h"
#include "run/reconcile.h"

#define HOST_URI "test://" SRCDIR "/tests/data/hosts/kvm01.xml"

/* fail_msg() cuts long messages; the snapshots in these are whole */
#define FAIL(...)                                     \
        do {                                          \
                fprintf(stderr, "ERROR: " __VA_ARGS__); \
                fputc('\n', stderr);                  \
                fail();                               \
                abort(); /* not reached: fail() jumps */ \
        } while (0)

/* ---- the kernel as iproute2 sees it ---- */

/* One link of `ip -j -d addr show`, flattened: "mtu" = "1400",
 * "linkinfo.info_data.stp_state" = "0", "addr_info[1].local" = "fd00:20::5". */
typedef struct jpair { char *key, *val; } jpair;
typedef struct jlink { jpair *v; size_t n; } jlink;
typedef struct jdump { jlink *v; size_t n; } jdump;

static void jlink_add(jlink *l, const char *key, const char *val, size_t val_len) {
        l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
        assert_non_null(l->v);
        l->v[l->n].key = strdup(key);
        l->v[l->n].val = strndup(val, val_len);
        l->n++;
}

static void jws(const char **p) {
        while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
                (*p)++;
}

/* A JSON string at *p, unescaped into buf (\uXXXX kept as written: iproute2 writes none for
 * the names and values read here). */
static size_t jstring(const char **p, char *buf, size_t size) {
        size_t n = 0;
        if (**p != '"')
                FAIL("ip -j: expected a string at: %.40s", *p);
        for ((*p)++; **p && **p != '"'; (*p)++) {
                char c = **p;
                if (c == '\\') {
                        c = *++*p;
                        c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
                }
                if (n + 1 < size)
                        buf[n++] = c;
        }
        if (**p != '"')
                FAIL("ip -j: unterminated string");
        (*p)++;
        buf[n] = '\0';
        return n;
}

static void jvalue(const char **p, const char *path, jlink *l) {
        char sub[512], key[128], buf[4096];
        jws(p);
        if (**p == '{') {
                (*p)++;
                for (jws(p); **p != '}';) {
                        jstring(p, key, sizeof(key));
                        if ((size_t) snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key) >= sizeof(sub))
                                FAIL("ip -j: a key path longer than %zu bytes: %s", sizeof(sub), sub);
                        jws(p);
                        if (**p != ':')
                                FAIL("ip -j: expected ':' at: %.40s", *p);
                        (*p)++;
                        jvalue(p, sub, l);
                        jws(p);
                        if (**p == ',')
                                (*p)++, jws(p);
                }
                (*p)++;
        } else if (**p == '[') {
                (*p)++;
                for (unsigned i = 0; jws(p), **p != ']'; i++) {
                        snprintf(sub, sizeof(sub), "%s[%u]", path, i);
                        jvalue(p, sub, l);
                        jws(p);
                        if (**p == ',')
                                (*p)++;
                }
                (*p)++;
        } else if (**p == '"') {
                size_t n = jstring(p, buf, sizeof(buf));
                jlink_add(l, path, buf, n);
        } else {
                size_t n = strcspn(*p, ",]} \n\t\r");
                if (!n)
                        FAIL("ip -j: unexpected text at: %.40s", *p);
                jlink_add(l, path, *p, n);
                *p += n;
        }
}

static char *read_cmd(const char *cmd) {
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        char *text = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
                if (cap - len < 4096)
                        text = realloc(text, cap = cap ? 2 * cap : 65536);
                assert_non_null(text);
                size_t got = fread(text + len, 1, cap - len - 1, f);
                if (!got)
                        break;
                len += got;
        }
        text[len] = '\0';
        int st = pclose(f);
        if (st != 0)
                FAIL("`%s` failed (status %d):\n%s", cmd, st, text);
        return text;
}

static jdump ip_dump(void) {
        char *text = read_cmd("ip -j -d addr show");
        jdump d = { 0 };
        const char *p = text;
        jws(&p);
        if (*p != '[')
                FAIL("ip -j: not a list:\n%s", text);
        for (p++, jws(&p); *p != ']'; jws(&p)) {
                d.v = realloc(d.v, (d.n + 1) * sizeof(*d.v));
                assert_non_null(d.v);
                d.v[d.n] = (jlink) { 0 };
                jvalue(&p, "", &d.v[d.n++]);
                jws(&p);
                if (*p == ',')
                        p++;
        }
        free(text);
        return d;
}

static void jdump_free(jdump *d) {
        for (size_t i = 0; i < d->n; i++) {
                for (size_t k = 0; k < d->v[i].n; k++) {
                        free(d->v[i].v[k].key);
                        free(d->v[i].v[k].val);
                }
                free(d->v[i].v);
        }
        free(d->v);
        *d = (jdump) { 0 };
}

static const char *jget(const jlink *l, const char *key) {
        for (size_t i = 0; l && i < l->n; i++)
                if (!strcmp(l->v[i].key, key))
                        return l->v[i].val;
        return NULL;
}

static const jlink *jfind(const jdump *d, const char *ifname) {
        for (size_t i = 0; i < d->n; i++) {
                const char *n = jget(&d->v[i], "ifname");
                if (n && !strcmp(n, ifname))
                        return &d->v[i];
        }
        return NULL;
}

static int cmp_strp(const void *a, const void *b) { return strcmp(*(char *const *) a, *(char *const *) b); }

/* Text grows by appending. */
typedef struct sbuf { char *s; size_t len, cap; } sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (b->len + (size_t) n + 1 > b->cap) {
                b->cap = (b->len + (size_t) n + 1) * 2;
                b->s = realloc(b->s, b->cap);
                assert_non_null(b->s);
        }
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        b->len += (size_t) n;
}

/* Links whose MAC the kernel draws at random: a macvlan without a declared macAddress. */
static const char *const random_mac[] = { "mvl-br0", "mvl-eno2", NULL };

static bool is_random_mac(const char *name) {
        for (size_t i = 0; random_mac[i]; i++)
                if (!strcmp(random_mac[i], name))
                        return true;
        return false;
}

/* The whole network namespace, one line per link sorted by name: what podform manages and
 * what it must leave alone (kind, lower link, master, MTU, admin state, MAC, alias, bridge
 * STP and forward delay, macvlan mode, global addresses). ifindex, timers, operstate and
 * link-local addresses are left out: they differ from one namespace to the next. */
static char *snapshot(void) {
        jdump d = ip_dump();
        char **lines = calloc(d.n + 1, sizeof(*lines));
        assert_non_null(lines);
        for (size_t i = 0; i < d.n; i++) {
                const jlink *l = &d.v[i];
                const char *name = jget(l, "ifname");
                sbuf b = { 0 };
                bool up = false;
                char key[64];
                for (unsigned f = 0; snprintf(key, sizeof(key), "flags[%u]", f), jget(l, key); f++)
                        up |= !strcmp(jget(l, key), "UP");
#define FIELD(label, k) do { const char *v_ = jget(l, k); if (v_) sb_printf(&b, " " label "=%s", v_); } while (0)
                sb_printf(&b, "%s", name);
                FIELD("kind", "linkinfo.info_kind");
                FIELD("link", "link");
                FIELD("master", "master");
                FIELD("mtu", "mtu");
                sb_printf(&b, " %s", up ? "up" : "down");
                if (!is_random_mac(name))
                        FIELD("mac", "address");
                FIELD("alias", "ifalias");
                FIELD("stp", "linkinfo.info_data.stp_state");
                FIELD("forward_delay", "linkinfo.info_data.forward_delay");
                FIELD("mode", "linkinfo.info_data.mode");
#undef FIELD
                char *addrs[64];
                size_t n_addrs = 0;
                for (unsigned a = 0; a < 64; a++) {
                        char k1[64], k2[64], k3[64];
                        snprintf(k1, sizeof(k1), "addr_info[%u].local", a);
                        snprintf(k2, sizeof(k2), "addr_info[%u].prefixlen", a);
                        snprintf(k3, sizeof(k3), "addr_info[%u].scope", a);
                        if (!jget(l, k1))
                                break;
                        if (strcmp(jget(l, k3), "global") != 0)
                                continue;
                        if (asprintf(&addrs[n_addrs++], "%s/%s", jget(l, k1), jget(l, k2)) < 0)
                                fail();
                }
                qsort(addrs, n_addrs, sizeof(*addrs), cmp_strp);
                sb_printf(&b, " addrs=");
                for (size_t a = 0; a < n_addrs; a++) {
                        sb_printf(&b, "%s%s", a ? "," : "", addrs[a]);
                        free(addrs[a]);
                }
                lines[i] = b.s;
        }
        qsort(lines, d.n, sizeof(*lines), cmp_strp);
        sbuf all = { 0 };
        sb_printf(&all, "%s", "");
        for (size_t i = 0; i < d.n; i++) {
                sb_printf(&all, "%s\n", lines[i]);
                free(lines[i]);
        }
        free(lines);
        jdump_free(&d);
        return all.s;
}

/* Everything iproute2 says about someone else's links, as is, but for the values the kernel
 * moves by itself (timers). Compared within one namespace: byte for byte. */
static const char *const foreign_links[] = { "foreign0", "fport", "fport-p", NULL };

static char *foreign_snapshot(void) {
        jdump d = ip_dump();
        sbuf b = { 0 };
        sb_printf(&b, "%s", "");
        for (size_t i = 0; foreign_links[i]; i++) {
                const jlink *l = jfind(&d, foreign_links[i]);
                if (!l)
                        FAIL("the hand-made link %s is gone", foreign_links[i]);
                for (size_t k = 0; k < l->n; k++) {
                        const char *key = l->v[k].key;
                        size_t len = strlen(key);
                        if (len > 6 && !strcmp(key + len - 6, "_timer"))
                                continue;
                        sb_printf(&b, "%s %s=%s\n", foreign_links[i], key, l->v[k].val);
                }
        }
        jdump_free(&d);
        return b.s;
}

/* ---- fault injection ---- */

static unsigned long nl_changes;        /* nl_send_sync calls since the last reset */
static unsigned long nl_fail_at;        /* 0: never; N: the N-th one fails */
static char failed_subject[80];         /* "bridge br0": the resource the failed change was for */
static char failed_request[160];        /* what it was, for messages */

static void ifname_of(unsigned ifindex, char name[IF_NAMESIZE]) {
        if (!if_indextoname(ifindex, name))
                snprintf(name, IF_NAMESIZE, "#%u", ifindex);
}

/* Which resource a change is for, read from the request itself and the kernel (the request
 * is not sent): the link it creates, deletes or changes; a bridge for its ports. */
static void describe(struct nl_msg *msg) {
        struct nlmsghdr *nlh = nlmsg_hdr(msg);
        char name[IF_NAMESIZE] = "?", kind[32] = "";
        const char *type = "?";
        jdump d = ip_dump();
        if (nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK) {
                type = nlh->nlmsg_type == RTM_NEWLINK ? "RTM_NEWLINK" : "RTM_DELLINK";
                struct ifinfomsg *ifi = nlmsg_data(nlh);
                struct nlattr *tb[IFLA_MAX + 1];
                assert_int_equal(nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL), 0);
                if (tb[IFLA_IFNAME])
                        nla_strlcpy(name, tb[IFLA_IFNAME], sizeof(name));
                else
                        ifname_of((unsigned) ifi->ifi_index, name);
                if (tb[IFLA_MASTER]) {
                        unsigned master = nla_get_u32(tb[IFLA_MASTER]);
                        type = master ? "RTM_NEWLINK (enslave)" : "RTM_NEWLINK (release)";
                        if (master) {
                                ifname_of(master, name);
                        } else {
                                const char *m = jget(jfind(&d, name), "master");
                                snprintf(name, sizeof(name), "%s", m ? m : "?");
                        }
                }
                if (tb[IFLA_LINKINFO]) {
                        struct nlattr *info[IFLA_INFO_MAX + 1];
                        if (nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) == 0 && info[IFLA_INFO_KIND] &&
                            !tb[IFLA_MASTER])
                                nla_strlcpy(kind, info[IFLA_INFO_KIND], sizeof(kind));
                }
        } else if (nlh->nlmsg_type == RTM_NEWADDR || nlh->nlmsg_type == RTM_DELADDR) {
                type = nlh->nlmsg_type == RTM_NEWADDR ? "RTM_NEWADDR" : "RTM_DELADDR";
                struct ifaddrmsg *ifa = nlmsg_data(nlh);
                ifname_of(ifa->ifa_index, name);
        }
        if (!kind[0]) {
                const char *k = jget(jfind(&d, name), "linkinfo.info_kind");
                snprintf(kind, sizeof(kind), "%s", k ? k : "?");
        }
        jdump_free(&d);
        snprintf(failed_subject, sizeof(failed_subject), "%s %s", kind, name);
        snprintf(failed_request, sizeof(failed_request), "%s for %s", type, failed_subject);
}

int __real_nl_send_sync(struct nl_sock *sk, struct nl_msg *msg);
int __wrap_nl_send_sync(struct nl_sock *sk, struct nl_msg *msg);
int __wrap_nl_send_sync(struct nl_sock *sk, struct nl_msg *msg) {
        if (++nl_changes != nl_fail_at)
                return __real_nl_send_sync(sk, msg);
        describe(msg);
        nlmsg_free(msg);        /* nl_send_sync takes the message, sent or not */
        return -NLE_PERM;
}

/* ---- harness ---- */

static char *state_dirs[256];
static size_t n_state_dirs;
static const char *state_dir;           /* of the current namespace */

static void sh(const char *cmd) {
        int st = system(cmd);
        if (st != 0)
                FAIL("`%s` failed (status %d)", cmd, st);
}

/* A fresh network namespace with four NICs (veth pairs with fixed MACs; eno2 and eno4 up) and
 * someone else's bridge with a port, an address and an alias. */
static void enter_host(void) {
        if (unshare(CLONE_NEWNET) < 0)
                FAIL("unshare(CLONE_NEWNET): %s", strerror(errno));
        sh("set -e; for i in 1 2 3 4; do "
           "ip link add eno$i address 02:00:00:00:0$i:01 type veth peer name eno$i-p address 02:00:00:00:0$i:02; done; "
           "ip link set eno2 up; ip link set eno4 up; "
           "ip link add foreign0 address 02:00:00:00:0f:00 type bridge; ip link set foreign0 alias hand-made; "
           "ip link add fport address 02:00:00:00:0f:01 type veth peer name fport-p address 02:00:00:00:0f:02; "
           "ip link set fport master foreign0; "
           "ip addr add 192.0.2.1/24 dev foreign0; ip link set foreign0 up");
        char tmpl[] = "/tmp/podform-test-links.XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        assert_true(n_state_dirs < sizeof(state_dirs) / sizeof(*state_dirs));
        state_dir = state_dirs[n_state_dirs++] = strdup(tmpl);
}

typedef struct run_result {
        int code;
        char *out;              /* plan and results */
        char *err;              /* diagnostics */
        unsigned long changes;  /* netlink changes, as podform counts them */
} run_result;

static void run_result_free(run_result *r) {
        free(r->out);
        free(r->err);
}

/* One apply of `yaml`, as one podform process would: its own libvirt connection (the test
 * driver: no libvirt object is declared) and its own netlink socket, opened in the current
 * namespace. */
static run_result apply(const char *yaml, bool prune) {
        pf_config c;
        pf_config_init(&c);
        pf_config_load_buffer(&c, "links.yaml", yaml, strlen(yaml));
        pf_run_check(&c);
        if (c.diags.n_errors) {
                pf_diag_print(&c.diags, stderr, false);
                FAIL("test configuration is invalid");
        }
        char *e = NULL;
        pf_lv_opts lo = { .shutdown_timeout = 1 };
        pf_lv_host *lv = pf_lv_open(HOST_URI, NULL, &lo, &e);
        if (!lv)
                FAIL("%s", e);
        pf_nl_host *nl = pf_nl_open(state_dir, false, &e);
        if (!nl)
                FAIL("%s", e);
        run_result r = { 0 };
        size_t out_len, err_len;
        FILE *out = open_memstream(&r.out, &out_len), *err = open_memstream(&r.err, &err_len);
        pf_run_opts o = { .apply = true, .prune = prune, .yes = true, .host_name = "kvm01", .out = out, .err = err };
        nl_changes = 0;
        r.code = pf_reconcile(&c, lv, nl, &o);
        r.changes = pf_nl_mutations(nl);
        fclose(out);
        fclose(err);
        /* podform's count and the calls made are one and the same */
        if (r.changes != nl_changes)
                FAIL("podform counted %lu netlink changes, nl_send_sync was called %lu times:\n%s%s", r.changes,
                         nl_changes, r.out, r.err);
        pf_nl_close(nl);
        pf_lv_close(lv);
        pf_config_free(&c);
        return r;
}

static void expect_contains(const char *text, const char *needle) {
        if (!strstr(text, needle))
                FAIL("expected \"%s\" in:\n%s", needle, text);
}

static run_result apply_ok(const char *yaml, bool prune) {
        run_result r = apply(yaml, prune);
        if (r.code != PF_EXIT_OK)
                FAIL("apply failed (exit %d):\n%s%s", r.code, r.out, r.err);
        expect_contains(r.out, "Verify: observed the host again; no changes remain.");
        return r;
}

static void apply_nothing(const char *yaml, bool prune, const char *when) {
        run_result r = apply(yaml, prune);
        if (r.code != PF_EXIT_OK || r.changes != 0)
                FAIL("%s: the apply after convergence exits %d with %lu netlink changes:\n%s%s", when, r.code,
                         r.changes, r.out, r.err);
        expect_contains(r.out, "Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions.");
        run_result_free(&r);
}

static void expect_snapshot(const char *want, const char *when) {
        char *have = snapshot();
        if (strcmp(want, have) != 0)
                FAIL("%s: the kernel differs from the clean run's.\nclean run:\n%s\nthis run:\n%s", when, want, have);
        free(have);
}

static void expect_foreign(const char *before, const char *when) {
        char *after = foreign_snapshot();
        if (strcmp(before, after) != 0)
                FAIL("%s: the hand-made bridge changed.\nbefore:\n%s\nafter:\n%s", when, before, after);
        free(after);
}

/* The failed run: the injected failure is reported on the failing resource's line, and the
 * exit code says whether anything was applied (3) or nothing (1). */
static void expect_reported(const run_result *r, const char *when) {
        if (!failed_subject[0])
                FAIL("%s: the fault was never reached (%lu changes):\n%s%s", when, r->changes, r->out, r->err);
        const char *line = strstr(r->out, "  FAILED  ");
        if (!line)
                FAIL("%s: %s failed and the output has no FAILED line:\n%s%s", when, failed_request, r->out, r->err);
        if (strstr(line + 1, "  FAILED  "))
                FAIL("%s: one change failed, several actions report a failure:\n%s", when, r->out);
        /* "  FAILED  ~ bridge br0 (live): bridge br0: ...: Operation not permitted" */
        const char *head = line + strlen("  FAILED  ") + 2, *eol = strchr(line, '\n');
        size_t n = strlen(failed_subject);
        if (strncmp(head, failed_subject, n) != 0 || (head[n] != ' ' && head[n] != ':'))
                FAIL("%s: %s failed, but the output blames another resource:\n%.*s", when, failed_request,
                         (int) (eol ? eol - line : (long) strlen(line)), line);
        if (!strstr(line, nl_geterror(NLE_PERM)))
                FAIL("%s: the FAILED line does not give the reason (\"%s\"):\n%s", when, nl_geterror(NLE_PERM), r->out);
        int want = strstr(r->out, "  done ") ? PF_EXIT_PARTIAL : PF_EXIT_ERROR;
        if (r->code != want)
                FAIL("%s: exit %d, expected %d:\n%s%s", when, r->code, want, r->out, r->err);
}

/* ---- configurations ---- */

/* Every link feature: a bridge with a port, STP, forward delay, MTU, MAC, IPv4 and IPv6
 * addresses; a macvlan on that bridge with an address; a macvlan and a macvtap on a NIC. */
static const char config1[] =
        "apiVersion: podform/v1\nkind: Bridge\nmetadata: {name: br0}\nspec:\n"
        "  ports: [eno1]\n  stp: false\n  forwardDelay: 0\n  mtu: 1400\n"
        "  macAddress: \"52:54:00:aa:00:01\"\n  addresses: [10.20.0.5/24, \"fd00:20::5/64\"]\n  state: up\n"
        "---\napiVersion: podform/v1\nkind: Macvlan\nmetadata: {name: mvl-br0}\n"
        "spec: {parent: br0, mode: bridge, addresses: [10.21.0.2/24], state: up}\n"
        "---\napiVersion: podform/v1\nkind: Macvlan\nmetadata: {name: mvl-eno2}\n"
        "spec: {parent: eno2, mode: bridge, state: up}\n"
        "---\napiVersion: podform/v1\nkind: Macvtap\nmetadata: {name: mvt0}\n"
        "spec: {parent: eno2, mode: vepa, macAddress: \"52:54:00:aa:00:02\", state: up}\n";

/* From config1: MTU down, STP on (with a delay STP accepts), ports eno1 -> eno3, one address
 * replaced and one added; mvl-br0's mode changed in place; mvt0 moved to passthru on eno4,
 * which nothing else uses (a recreation); mvl-eno2 no longer declared (pruned). mvt0 declares
 * no MAC: a passthru macvtap has its parent's (see test_passthru_mac). */
static const char config2[] =
        "apiVersion: podform/v1\nkind: Bridge\nmetadata: {name: br0}\nspec:\n"
        "  ports: [eno3]\n  stp: true\n  forwardDelay: 4\n  mtu: 1300\n"
        "  macAddress: \"52:54:00:aa:00:01\"\n  addresses: [10.20.0.6/24, \"fd00:20::5/64\", \"fd00:21::6/64\"]\n"
        "  state: up\n"
        "---\napiVersion: podform/v1\nkind: Macvlan\nmetadata: {name: mvl-br0}\n"
        "spec: {parent: br0, mode: vepa, addresses: [10.21.0.2/24], state: up}\n"
        "---\napiVersion: podform/v1\nkind: Macvtap\nmetadata: {name: mvt0}\n"
        "spec: {parent: eno4, mode: passthru, state: up}\n";

/* VXLAN tunnels (fixed MACs, so that runs compare): vx0 on an underlay NIC, a port of br0; vx1 by local address. vxlan2 changes
 * vx0 in place (learning, MTU, address) and recreates vx1 (id, port). */
static const char vxlan1[] =
        "apiVersion: podform/v1\nkind: Vxlan\nmetadata: {name: vx0}\n"
        "spec: {macAddress: \"52:54:00:bb:00:01\", id: 42, parent: eno2, remote: 10.9.0.2, learning: false, mtu: 1450, addresses: [10.30.0.1/24]}\n"
        "---\napiVersion: podform/v1\nkind: Vxlan\nmetadata: {name: vx1}\n"
        "spec: {macAddress: \"52:54:00:bb:00:02\", id: 43, local: 10.9.0.1, remote: 10.9.0.3}\n"
        "---\napiVersion: podform/v1\nkind: Bridge\nmetadata: {name: br0}\nspec: {macAddress: \"52:54:00:bb:00:0a\", ports: [vx0], state: up}\n";
static const char vxlan2[] =
        "apiVersion: podform/v1\nkind: Vxlan\nmetadata: {name: vx0}\n"
        "spec: {macAddress: \"52:54:00:bb:00:01\", id: 42, parent: eno2, remote: 10.9.0.2, learning: true, mtu: 1400, addresses: [10.30.0.2/24]}\n"
        "---\napiVersion: podform/v1\nkind: Vxlan\nmetadata: {name: vx1}\n"
        "spec: {macAddress: \"52:54:00:bb:00:02\", id: 44, local: 10.9.0.1, remote: 10.9.0.3, dstport: 4790}\n"
        "---\napiVersion: podform/v1\nkind: Bridge\nmetadata: {name: br0}\nspec: {macAddress: \"52:54:00:bb:00:0a\", ports: [vx0], state: up}\n";
/* Both tunnels pruned (released from br0 and deleted); a third one and a NIC take their place. */
static const char vxlan3[] =
        "apiVersion: podform/v1\nkind: Vxlan\nmetadata: {name: vx2}\n"
        "spec: {macAddress: \"52:54:00:bb:00:03\", id: 45, parent: eno2, group: 239.1.1.1, addresses: [10.31.0.1/24]}\n"
        "---\napiVersion: podform/v1\nkind: Bridge\nmetadata: {name: br0}\nspec: {macAddress: \"52:54:00:bb:00:0a\", ports: [eno3, vx2], state: up}\n";

/* ---- tests ---- */

/* `line` is a whole line of the snapshot; a field written "key=*" may have any value. */
static void expect_line(const char *snap, const char *line) {
        size_t name_len = strcspn(line, " ");
        const char *at = snap;
        while (at && (strncmp(at, line, name_len) != 0 || at[name_len] != ' '))
                at = (at = strchr(at, '\n')) ? at + 1 : NULL;
        const char *want = line, *have = at;
        while (at && *want) {
                size_t w = strcspn(want, " "), h = strcspn(have, " \n");
                bool any = w >= 2 && !strncmp(want + w - 2, "=*", 2);
                if (any ? h < w - 1 || strncmp(want, have, w - 1) != 0 : h != w || strncmp(want, have, w) != 0)
                        break;
                want += w + (want[w] == ' ');
                have += h + (have[h] == ' ');
        }
        if (!at || *want || *have != '\n')
                FAIL("expected the link\n  %s\nin the kernel:\n%s", line, snap);
}

/* Config 1 lands as declared, read back with iproute2; the second apply changes nothing. */
static void test_every_feature(void **state) {
        (void) state;
        enter_host();
        char *foreign = foreign_snapshot();
        run_result r = apply_ok(config1, false);
        expect_contains(r.out, "Plan: 4 to create, 0 to change, 0 to delete.");
        run_result_free(&r);

        char *snap = snapshot();
        expect_line(snap, "br0 kind=bridge mtu=1400 up mac=52:54:00:aa:00:01 alias=podform:Bridge/br0 stp=0 "
                          "forward_delay=0 addrs=10.20.0.5/24,fd00:20::5/64");
        expect_line(snap, "eno1 kind=veth link=eno1-p master=br0 mtu=1500 down mac=02:00:00:00:01:01 addrs=");
        expect_line(snap, "mvl-br0 kind=macvlan link=br0 mtu=1400 up alias=podform:Macvlan/mvl-br0 mode=bridge "
                          "addrs=10.21.0.2/24");
        expect_line(snap, "mvl-eno2 kind=macvlan link=eno2 mtu=1500 up alias=podform:Macvlan/mvl-eno2 mode=bridge addrs=");
        expect_line(snap, "mvt0 kind=macvtap link=eno2 mtu=1500 up mac=52:54:00:aa:00:02 alias=podform:Macvtap/mvt0 "
                          "mode=vepa addrs=");
        /* the NICs podform does not manage are as they were */
        expect_line(snap, "eno2 kind=veth link=eno2-p mtu=1500 up mac=02:00:00:00:02:01 addrs=");
        expect_line(snap, "eno3 kind=veth link=eno3-p mtu=1500 down mac=02:00:00:00:03:01 addrs=");
        expect_foreign(foreign, "config 1");

        r = apply(config1, false);
        assert_int_equal(r.code, PF_EXIT_OK);
        assert_int_equal(r.changes, 0);
        expect_contains(r.out, "No changes: the host matches the configuration.");
        expect_contains(r.out, "Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions.");
        run_result_free(&r);
        expect_snapshot(snap, "second apply");
        /* prune with everything declared: nothing of someone else's is touched either */
        apply_nothing(config1, true, "prune");
        expect_foreign(foreign, "prune");
        free(snap);
        free(foreign);
}

/* Config 2 from config 1, read back with iproute2. */
static void test_changes_and_prune(void **state) {
        (void) state;
        enter_host();
        char *foreign = foreign_snapshot();
        run_result r = apply_ok(config1, false);
        run_result_free(&r);
        r = apply_ok(config2, true);
        expect_contains(r.out, "- macvlan mvl-eno2\n");
        expect_contains(r.out, "~ macvtap mvt0 (recreate)\n");
        expect_contains(r.out, "~ macvlan mvl-br0 (live)\n");
        run_result_free(&r);
        char *snap = snapshot();
        expect_line(snap, "br0 kind=bridge mtu=1300 up mac=52:54:00:aa:00:01 alias=podform:Bridge/br0 stp=1 "
                          "forward_delay=400 addrs=10.20.0.6/24,fd00:20::5/64,fd00:21::6/64");
        expect_line(snap, "eno1 kind=veth link=eno1-p mtu=1500 down mac=02:00:00:00:01:01 addrs=");
        expect_line(snap, "eno3 kind=veth link=eno3-p master=br0 mtu=1500 down mac=02:00:00:00:03:01 addrs=");
        expect_line(snap, "mvl-br0 kind=macvlan link=br0 mtu=1300 up alias=podform:Macvlan/mvl-br0 mode=vepa "
                          "addrs=10.21.0.2/24");
        expect_line(snap, "mvt0 kind=macvtap link=eno4 mtu=1500 up mac=02:00:00:00:04:01 alias=podform:Macvtap/mvt0 "
                          "mode=passthru addrs=");
        expect_line(snap, "eno4 kind=veth link=eno4-p mtu=1500 up mac=02:00:00:00:04:01 addrs=");
        if (strstr(snap, "mvl-eno2"))
                FAIL("mvl-eno2 was not pruned:\n%s", snap);
        expect_foreign(foreign, "config 2");
        apply_nothing(config2, true, "config 2");
        free(snap);
        free(foreign);
}

/* Back from config 2 to config 1: STP off again with a forward delay below the 2 s STP
 * allows, ports, modes and the pruned macvlan back. */
static void test_back_to_config1(void **state) {
        (void) state;
        enter_host();
        char *foreign = foreign_snapshot();
        run_result r = apply_ok(config1, true);
        run_result_free(&r);
        r = apply_ok(config2, true);
        run_result_free(&r);
        r = apply(config1, true);
        char *snap = snapshot();
        if (r.code != PF_EXIT_OK)
                FAIL("config 2 -> config 1 does not converge (exit %d):\n%s%s\nkernel:\n%s", r.code, r.out, r.err, snap);
        expect_contains(r.out, "Verify: observed the host again; no changes remain.");
        run_result_free(&r);
        expect_line(snap, "br0 kind=bridge mtu=1400 up mac=52:54:00:aa:00:01 alias=podform:Bridge/br0 stp=0 "
                          "forward_delay=0 addrs=10.20.0.5/24,fd00:20::5/64");
        expect_line(snap, "eno1 kind=veth link=eno1-p master=br0 mtu=1500 down mac=02:00:00:00:01:01 addrs=");
        expect_line(snap, "eno3 kind=veth link=eno3-p mtu=1500 down mac=02:00:00:00:03:01 addrs=");
        /* a macvlan's MTU is not declared: the kernel lowered it with the bridge's, and keeps it */
        expect_line(snap, "mvl-br0 kind=macvlan link=br0 mtu=* up alias=podform:Macvlan/mvl-br0 mode=bridge "
                          "addrs=10.21.0.2/24");
        expect_line(snap, "mvl-eno2 kind=macvlan link=eno2 mtu=1500 up alias=podform:Macvlan/mvl-eno2 mode=bridge addrs=");
        expect_line(snap, "mvt0 kind=macvtap link=eno2 mtu=1500 up mac=52:54:00:aa:00:02 alias=podform:Macvtap/mvt0 "
                          "mode=vepa addrs=");
        expect_line(snap, "eno4 kind=veth link=eno4-p mtu=1500 up mac=02:00:00:00:04:01 addrs=");
        expect_foreign(foreign, "config 2 -> config 1");
        apply_nothing(config1, true, "config 2 -> config 1");
        free(snap);
        free(foreign);
}

/* A passthru macvtap with a declared MAC: one apply must make it so. (The kernel gives a
 * passthru macvtap its parent's MAC at creation, whatever the request says; setting it
 * afterwards sets the parent's too, until the macvtap is deleted.) */
static void test_passthru_mac(void **state) {
        (void) state;
        static const char yaml[] =
                "apiVersion: podform/v1\nkind: Macvtap\nmetadata: {name: mvt0}\n"
                "spec: {parent: eno4, mode: passthru, macAddress: \"52:54:00:aa:00:02\", state: up}\n";
        enter_host();
        run_result r = apply(yaml, false);
        char *snap = snapshot();
        if (r.code != PF_EXIT_OK)
                FAIL("a passthru macvtap with a macAddress does not converge in one apply (exit %d):\n%s%s\nkernel:\n%s",
                     r.code, r.out, r.err, snap);
        run_result_free(&r);
        expect_line(snap, "mvt0 kind=macvtap link=eno4 mtu=1500 up mac=52:54:00:aa:00:02 alias=podform:Macvtap/mvt0 "
                          "mode=passthru addrs=");
        free(snap);
        apply_nothing(yaml, false, "passthru");
}

/* Fault injection: for every N, the N-th netlink change of `yaml` (applied after `before`,
 * when given) fails. The failed run names the resource and exits 3 or 1; the next run
 * converges; the one after changes nothing; the kernel ends as after a clean run, and the
 * hand-made bridge is never touched. Returns the number of faults injected. */
static unsigned long every_fault(const char *before, const char *yaml, bool prune) {
        /* the clean run: how many changes there are to fail, and where they lead */
        enter_host();
        if (before) {
                run_result r = apply_ok(before, false);
                run_result_free(&r);
        }
        run_result r = apply_ok(yaml, prune);
        unsigned long total = r.changes;
        run_result_free(&r);
        char *clean = snapshot();
        apply_nothing(yaml, prune, "clean run");
        assert_true(total >= 6);

        for (unsigned long n = 1; n <= total; n++) {
                char when[256];
                enter_host();
                char *foreign = foreign_snapshot();
                if (before) {
                        r = apply_ok(before, false);
                        run_result_free(&r);
                }
                failed_subject[0] = '\0';
                nl_fail_at = n;
                r = apply(yaml, prune);
                nl_fail_at = 0;
                snprintf(when, sizeof(when), "change %lu of %lu (%s)", n, total, failed_request);
                expect_reported(&r, when);
                print_message("[          ] %s: exit %d\n", when, r.code);
                run_result_free(&r);

                r = apply(yaml, prune);
                if (r.code != PF_EXIT_OK)
                        FAIL("%s: the next apply did not converge (exit %d):\n%s%s\nkernel:\n%s", when, r.code, r.out,
                                 r.err, snapshot());
                expect_contains(r.out, "Verify: observed the host again; no changes remain.");
                run_result_free(&r);
                apply_nothing(yaml, prune, when);
                expect_snapshot(clean, when);
                expect_foreign(foreign, when);
                free(foreign);
        }
        free(clean);
        return total;
}

static void test_every_fault_creation(void **state) {
        (void) state;
        unsigned long n = every_fault(NULL, config1, false);
        print_message("[          ] %lu faults injected over the creation of config 1\n", n);
}

static void test_every_fault_change_prune(void **state) {
        (void) state;
        unsigned long n = every_fault(config1, config2, true);
        print_message("[          ] %lu faults injected over config 1 -> config 2 with prune\n", n);
}

/* A bridge alone: a failure leaves no other action done, so the failed run exits 1. */
static void test_every_fault_vxlan(void **state) {
        (void) state;
        unsigned long n = every_fault(NULL, vxlan1, false);
        if (n < 5)
                FAIL("creating two VXLAN tunnels and a bridge took %lu netlink changes", n);
}

static void test_every_fault_vxlan_change_prune(void **state) {
        (void) state;
        unsigned long n = every_fault(vxlan1, vxlan2, false);
        if (n < 4)
                FAIL("changing vx0 in place and recreating vx1 took %lu netlink changes", n);
        n = every_fault(vxlan2, vxlan3, true);
        if (n < 2)
                FAIL("pruning two VXLAN tunnels took %lu netlink changes", n);
        print_message("[          ] VXLAN: every netlink change failed once, and recovered from\n");
}

/* `podform show` of this namespace and the libvirt host at `uri`, as one process would run it. */
static char *show_on(const char *uri) {
        char *e = NULL, *text = NULL, *err_text = NULL;
        pf_lv_opts lo = { .shutdown_timeout = 1 };
        pf_lv_host *lv = pf_lv_open(uri, NULL, &lo, &e);
        pf_nl_host *nl = lv ? pf_nl_open(state_dir, false, &e) : NULL;
        if (!nl)
                FAIL("%s", e);
        size_t len, err_len;
        FILE *out = open_memstream(&text, &len), *err = open_memstream(&err_text, &err_len);
        pf_run_opts o = { .host_name = "kvm01", .out = out, .err = err };
        int code = pf_show(lv, nl, &o);
        fclose(out);
        fclose(err);
        if (code != PF_EXIT_OK)
                FAIL("show exits %d:\n%s", code, err_text);
        free(err_text);
        pf_nl_close(nl);
        pf_lv_close(lv);
        return text;
}

static char *show(void) { return show_on(HOST_URI); }

/* The round trip: what `show` prints of podform's links, someone else's bridge and VXLANs of
 * both peer kinds is a valid configuration under which an apply changes nothing; a tap on a
 * bridge (a VM's NIC) is not written as a port. */
static void test_show_round_trip(void **state) {
        (void) state;
        enter_host();
        static const char tunnels[] =
                "---\napiVersion: podform/v1\nkind: Vxlan\nmetadata: {name: vx8}\n"
                "spec: {id: 48, local: 10.9.0.1, remote: 10.9.0.3, learning: false, dstport: 4790}\n"
                "---\napiVersion: podform/v1\nkind: Vxlan\nmetadata: {name: vx9}\n"
                "spec: {id: 49, parent: eno2, group: 239.1.1.1, mtu: 1400, addresses: [10.31.0.1/24]}\n";
        char *declared;
        assert_true(asprintf(&declared, "%s%s", config1, tunnels) > 0);
        run_result r = apply_ok(declared, false);
        run_result_free(&r);
        sh("ip tuntap add tap9 mode tap && ip link set tap9 master br0");
        char *before = snapshot(), *shown = show();
        static const char *const documents[] = {
                "kind: Bridge\nmetadata:\n  name: br0\nspec:\n  stp: false\n  forwardDelay: 0\n  ports: [eno1]\n"
                "  mtu: 1400\n  macAddress: \"52:54:00:aa:00:01\"\n  state: up\n"
                "  addresses: [10.20.0.5/24, \"fd00:20::5/64\"]\n",
                "# not podform's: applied, podform adopts it, manages what this declares and never deletes it\n"
                "apiVersion: podform/v1\nkind: Bridge\nmetadata:\n  name: foreign0\nspec:\n  stp: false\n"
                "  forwardDelay: 15\n  ports: [fport]\n  mtu: 1500\n  macAddress: \"02:00:00:00:0f:00\"\n  state: up\n"
                "  addresses: [192.0.2.1/24]\n",
                "  # mtu: 1400 (read from the host; podform's format has no key for it)\n",
                "kind: Macvtap\nmetadata:\n  name: mvt0\nspec:\n  parent: eno2\n  mode: vepa\n",
                "kind: Macvlan\nmetadata:\n  name: mvl-br0\nspec:\n  parent: br0\n  mode: bridge\n",
                "kind: Vxlan\nmetadata:\n  name: vx8\nspec:\n  id: 48\n  local: 10.9.0.1\n  remote: 10.9.0.3\n"
                "  dstport: 4790\n  learning: false\n",
                "kind: Vxlan\nmetadata:\n  name: vx9\nspec:\n  parent: eno2\n  id: 49\n  group: 239.1.1.1\n"
                "  dstport: 4789\n  learning: true\n  mtu: 1400\n",
        };
        for (size_t i = 0; i < sizeof(documents) / sizeof(documents[0]); i++)
                expect_contains(shown, documents[i]);
        if (strstr(shown, "tap9"))
                FAIL("a tap is shown:\n%s", shown);
        r = apply(shown, false);
        if (r.code != PF_EXIT_OK || r.changes != 0)
                FAIL("applying what show printed exits %d with %lu netlink changes:\n%s%s", r.code, r.changes, r.out,
                     r.err);
        expect_contains(r.out, "No changes: the host matches the configuration.");
        run_result_free(&r);
        expect_snapshot(before, "applying what show printed");
        apply_nothing(declared, false, "the declared configuration after the round trip");
        free(before);
        free(shown);
        free(declared);
}

/* What the format cannot say of someone else's link: a value podform compares only when declared
 * (a fractional or long forward delay, macvlan mode source) is a comment and left out; a link
 * whose required or always-compared values cannot be written (a VXLAN without a peer, a parent
 * in another network namespace) is shown wholly as comments. Applied, nothing changes. */
static void test_show_says_what_it_cannot_write(void **state) {
        (void) state;
        enter_host();
        char ns[32], *cmd;
        snprintf(ns, sizeof(ns), "pf-show-%d", (int) getpid());
        assert_true(asprintf(&cmd, "set -e; ip link add brfrac type bridge forward_delay 250 stp_state 0; "
                                   "ip link add brlong type bridge forward_delay 4000 stp_state 0; "
                                   "ip link add link eno2 name msrc0 type macvlan mode source; "
                                   "ip link add link eno2 name mtsrc0 type macvtap mode source; "
                                   "ip link add vxnp type vxlan id 77 dev eno2 dstport 4789; "
                                   "ip netns add %s; ip -n %s link add d0 type veth peer name d1; "
                                   "ip -n %s link add link d0 name mvx0 type macvlan mode bridge; "
                                   "ip -n %s link set mvx0 netns $$", ns, ns, ns, ns) > 0);
        sh(cmd);
        free(cmd);
        char *before = snapshot(), *shown = show();
        if (getenv("PODFORM_TEST_SHOW"))
                fputs(shown, stderr);
        static const char *const expected[] = {
                "  name: brfrac\nspec:\n  stp: false\n  # forwardDelay: 2.50 (read from the host; podform's format "
                "takes whole seconds from 0 to 30: left out, and podform leaves it as it is)\n",
                "  name: brlong\nspec:\n  stp: false\n  # forwardDelay: 40 (read from the host;",
                "kind: Macvlan\nmetadata:\n  name: msrc0\nspec:\n  parent: eno2\n  # mode: source (read from the host; "
                "podform's format takes private, vepa, bridge or passthru: left out, and podform leaves it as it is)\n",
                "kind: Macvtap\nmetadata:\n  name: mtsrc0\nspec:\n  parent: eno2\n  # mode: source (read from the host;",
                "# Vxlan vxnp is shown as comments, as it is on the host: podform's format cannot say it (Vxlan \"vxnp\" "
                "needs \"remote\"",
                "# Macvlan mvx0 is shown as comments, as it is on the host: podform's format cannot say it (",
                "#   # parent: in another network namespace (IFLA_LINK_NETNSID); podform's format names a parent in "
                "this one\n#   parent: \"(another network namespace)\"\n",
        };
        for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
                expect_contains(shown, expected[i]);
        run_result r = apply(shown, false);
        if (r.code != PF_EXIT_OK || r.changes != 0)
                FAIL("applying what show printed exits %d with %lu netlink changes:\n%s%s%s", r.code, r.changes, shown,
                     r.out, r.err);
        expect_contains(r.out, "No changes: the host matches the configuration.");
        run_result_free(&r);
        expect_snapshot(before, "applying what show printed");
        assert_true(asprintf(&cmd, "ip netns del %s", ns) > 0);
        sh(cmd);
        free(cmd);
        free(before);
        free(shown);
}

/* A running VM's direct interface is a macvtap libvirt makes, names (the test driver testnetN,
 * libvirtd macvtapN) and deletes with the VM: show says whose it is instead of writing a
 * Macvtap, which applied would make podform claim the device. */
static void test_show_leaves_a_vms_macvtap_to_it(void **state) {
        (void) state;
        enter_host();
        sh("ip link add link eno2 name testnet0 type macvtap mode vepa");
        char *shown = show_on("test://" SRCDIR "/tests/data/hosts/vm-macvtap.xml");
        expect_contains(shown, "# macvtap testnet0 is VM vm1's own: libvirt made it for the VM's direct interface\n");
        if (strstr(shown, "name: testnet0"))
                FAIL("a VM's macvtap is shown as a Macvtap:\n%s", shown);
        run_result r = apply(shown, false);
        if (r.code != PF_EXIT_OK || r.changes != 0)
                FAIL("applying what show printed exits %d with %lu netlink changes:\n%s%s", r.code, r.changes, r.out, r.err);
        run_result_free(&r);
        free(shown);
}

static void test_every_fault_bridge_alone(void **state) {
        (void) state;
        const char *end = strstr(config1, "---");
        char *bridge = strndup(config1, (size_t) (end - config1));
        unsigned long n = every_fault(NULL, bridge, false);
        print_message("[          ] %lu faults injected over the creation of a bridge alone\n", n);
        free(bridge);
}

/* One test with macvtaps at a time: see tests/integration/macvtap-lock.sh, whose lock this is
 * (held until exit). */
static void macvtap_lock(void) {
        static const char *const dirs[] = { "/run/lock", "/run", "/tmp" };     /* as macvtap-lock.sh */
        if (getenv("PODFORM_MACVTAP_LOCK"))
                return;
        struct stat st;
        size_t i = 0;
        while (i + 1 < sizeof(dirs) / sizeof(dirs[0]) && (stat(dirs[i], &st) != 0 || !S_ISDIR(st.st_mode)))
                i++;
        char path[64];
        snprintf(path, sizeof(path), "%s/podform-tests-macvtap.lock", dirs[i]);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0 || flock(fd, LOCK_EX) < 0) {
                fprintf(stderr, "test_links: cannot lock %s: %s\n", path, strerror(errno));
                exit(1);
        }
}

int main(void) {
        if (geteuid() != 0) {
                printf("SKIP: test_links needs root, for network namespaces of its own\n");
                return 77;
        }
        macvtap_lock();
        if (unshare(CLONE_NEWNET) < 0) {
                printf("SKIP: test_links cannot make a network namespace: unshare(CLONE_NEWNET): %s\n", strerror(errno));
                return 77;
        }
        if (system("ip -V >/dev/null 2>&1") != 0) {
                printf("SKIP: test_links reads the kernel back with iproute2's ip, which is not installed\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_feature),
                cmocka_unit_test(test_show_round_trip),
                cmocka_unit_test(test_show_says_what_it_cannot_write),
                cmocka_unit_test(test_show_leaves_a_vms_macvtap_to_it),
                cmocka_unit_test(test_changes_and_prune),
                cmocka_unit_test(test_back_to_config1),
                cmocka_unit_test(test_passthru_mac),
                cmocka_unit_test(test_every_fault_creation),
                cmocka_unit_test(test_every_fault_bridge_alone),
                cmocka_unit_test(test_every_fault_change_prune),
                cmocka_unit_test(test_every_fault_vxlan),
                cmocka_unit_test(test_every_fault_vxlan_change_prune),
        };
        int failed = cmocka_run_group_tests(tests, NULL, NULL);
        for (size_t i = 0; i < n_state_dirs; i++) {
                char *cmd;
                if (asprintf(&cmd, "rm -rf '%s'", state_dirs[i]) >= 0) {
                        (void) system(cmd);
                        free(cmd);
                }
                free(state_dirs[i]);
        }
        return failed;
}
