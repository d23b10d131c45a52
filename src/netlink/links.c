/* links.c: host links over rtnetlink, with libnl-3's socket, message and attribute API.
 *
 * Observation is one RTM_GETLINK dump and one RTM_GETADDR dump per build, parsed here with
 * nla_parse: libnl-route 3.7's link cache does not read a bridge's IFLA_BR_* attributes (STP,
 * forward delay), so its cache would need a request per bridge. Changes are built as rtnetlink
 * messages too and all go through change(), which counts them. */
#include "config.h"
#include "netlink/links.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "config/values.h"
#include "model/names.h"
#include "util/statefile.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* ---- observation ---- */

typedef struct live_link {
        int ifindex, master, parent;    /* parent: IFLA_LINK, 0 when none */
        bool parent_elsewhere;          /* the parent is in another network namespace */
        char name[IFNAMSIZ];
        char kind[32];                  /* IFLA_INFO_KIND; "" for a NIC without one */
        char *alias;
        unsigned mtu, flags;
        char mac[18];
        unsigned stp, delay_cs;         /* bridges: IFLA_BR_STP_STATE, IFLA_BR_FORWARD_DELAY (1/100 s) */
        unsigned macvlan_mode;
        char **addrs;                   /* "ADDR/PREFIX", global scope only */
        size_t n_addrs;
        bool claimed;                   /* already an object under a declared kind */
} live_link;

typedef struct port_rec { char *bridge, *port; } port_rec;

struct pf_nl_host {
        struct nl_sock *sk;
        unsigned long mutations, round_trips;
        int last_errno;                 /* of the last request the kernel refused */
        char last_msg[256];             /* its extended ack message, "" when none */

        live_link *links;               /* sorted by name after a build */
        size_t n_links, cap_links;
        live_link **by_index;           /* sorted by ifindex */

        const pf_model *model;          /* of the last build */
        const pf_host *host;

        char *ports_path;               /* NULL: memory only */
        int lock_fd;
        port_rec *ports;
        size_t n_ports;
        bool ports_dirty;

        pf_driver driver;
};

static void links_clear(pf_nl_host *h) {
        for (size_t i = 0; i < h->n_links; i++) {
                free(h->links[i].alias);
                for (size_t a = 0; a < h->links[i].n_addrs; a++)
                        free(h->links[i].addrs[a]);
                free(h->links[i].addrs);
        }
        h->n_links = 0;
        free(h->by_index);
        h->by_index = NULL;
}

static void parse_link(struct nlmsghdr *nlh, live_link *l) {
        struct ifinfomsg *ifi = nlmsg_data(nlh);
        struct nlattr *tb[IFLA_MAX + 1];
        *l = (live_link) { .ifindex = ifi->ifi_index, .flags = ifi->ifi_flags };
        if (nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
                return;
        if (tb[IFLA_IFNAME])
                nla_strlcpy(l->name, tb[IFLA_IFNAME], sizeof(l->name));
        if (tb[IFLA_IFALIAS] && nla_len(tb[IFLA_IFALIAS]) > 0) {
                l->alias = pf_xcalloc(1, (size_t) nla_len(tb[IFLA_IFALIAS]) + 1);
                memcpy(l->alias, nla_data(tb[IFLA_IFALIAS]), (size_t) nla_len(tb[IFLA_IFALIAS]));
        }
        if (tb[IFLA_MTU])
                l->mtu = nla_get_u32(tb[IFLA_MTU]);
        if (tb[IFLA_MASTER])
                l->master = (int) nla_get_u32(tb[IFLA_MASTER]);
        if (tb[IFLA_LINK] && (int) nla_get_u32(tb[IFLA_LINK]) != l->ifindex)
                l->parent = (int) nla_get_u32(tb[IFLA_LINK]);
        l->parent_elsewhere = tb[IFLA_LINK_NETNSID] != NULL;
        if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == 6) {
                const uint8_t *m = nla_data(tb[IFLA_ADDRESS]);
                snprintf(l->mac, sizeof(l->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
        }
        if (!tb[IFLA_LINKINFO])
                return;
        struct nlattr *info[IFLA_INFO_MAX + 1];
        if (nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL) < 0)
                return;
        if (info[IFLA_INFO_KIND])
                nla_strlcpy(l->kind, info[IFLA_INFO_KIND], sizeof(l->kind));
        if (!info[IFLA_INFO_DATA])
                return;
        if (!strcmp(l->kind, "bridge")) {
                struct nlattr *br[IFLA_BR_MAX + 1];
                if (nla_parse_nested(br, IFLA_BR_MAX, info[IFLA_INFO_DATA], NULL) < 0)
                        return;
                if (br[IFLA_BR_STP_STATE])
                        l->stp = nla_get_u32(br[IFLA_BR_STP_STATE]);
                if (br[IFLA_BR_FORWARD_DELAY])
                        l->delay_cs = nla_get_u32(br[IFLA_BR_FORWARD_DELAY]);
        } else if (!strcmp(l->kind, "macvlan") || !strcmp(l->kind, "macvtap")) {
                struct nlattr *mv[IFLA_MACVLAN_MAX + 1];
                if (nla_parse_nested(mv, IFLA_MACVLAN_MAX, info[IFLA_INFO_DATA], NULL) < 0)
                        return;
                if (mv[IFLA_MACVLAN_MODE])
                        l->macvlan_mode = nla_get_u32(mv[IFLA_MACVLAN_MODE]);
        }
}

static int on_link(struct nl_msg *msg, void *arg) {
        pf_nl_host *h = arg;
        struct nlmsghdr *nlh = nlmsg_hdr(msg);
        if (nlh->nlmsg_type != RTM_NEWLINK)
                return NL_OK;
        if (h->n_links == h->cap_links) {
                h->cap_links = h->cap_links ? 2 * h->cap_links : 64;
                h->links = pf_xreallocarray(h->links, h->cap_links, sizeof(*h->links));
        }
        parse_link(nlh, &h->links[h->n_links]);
        if (h->links[h->n_links].name[0])
                h->n_links++;
        return NL_OK;
}

static int cmp_link_name(const void *a, const void *b) {
        return strcmp(((const live_link *) a)->name, ((const live_link *) b)->name);
}

static int cmp_link_index(const void *a, const void *b) {
        int x = (*(live_link *const *) a)->ifindex, y = (*(live_link *const *) b)->ifindex;
        return (x > y) - (x < y);
}

static live_link *link_by_name(const pf_nl_host *h, const char *name) {
        live_link key;
        snprintf(key.name, sizeof(key.name), "%s", name);
        return bsearch(&key, h->links, h->n_links, sizeof(*h->links), cmp_link_name);
}

static live_link *link_by_index(const pf_nl_host *h, int ifindex) {
        live_link key = { .ifindex = ifindex }, *k = &key;
        live_link **hit = bsearch(&k, h->by_index, h->n_links, sizeof(*h->by_index), cmp_link_index);
        return hit ? *hit : NULL;
}

static int on_addr(struct nl_msg *msg, void *arg) {
        pf_nl_host *h = arg;
        struct nlmsghdr *nlh = nlmsg_hdr(msg);
        if (nlh->nlmsg_type != RTM_NEWADDR)
                return NL_OK;
        struct ifaddrmsg *ifa = nlmsg_data(nlh);
        struct nlattr *tb[IFA_MAX + 1];
        if (nlmsg_parse(nlh, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
                return NL_OK;
        /* link-local addresses are the kernel's own, never declared; so are those with a
         * lifetime (SLAAC, privacy addresses, DHCP leases): podform's are permanent */
        if (ifa->ifa_scope != RT_SCOPE_UNIVERSE && ifa->ifa_scope != RT_SCOPE_SITE)
                return NL_OK;
        uint32_t flags = tb[IFA_FLAGS] ? nla_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
        if (!(flags & IFA_F_PERMANENT))
                return NL_OK;
        struct nlattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        int family = ifa->ifa_family;
        if (!a || (family != AF_INET && family != AF_INET6) || nla_len(a) != (family == AF_INET ? 4 : 16))
                return NL_OK;
        live_link *l = link_by_index(h, (int) ifa->ifa_index);
        if (!l)
                return NL_OK;
        char buf[INET6_ADDRSTRLEN + 8];
        inet_ntop(family, nla_data(a), buf, sizeof(buf));
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "/%u", ifa->ifa_prefixlen);
        l->addrs = pf_xreallocarray(l->addrs, l->n_addrs + 1, sizeof(*l->addrs));
        l->addrs[l->n_addrs++] = pf_xstrdup(buf);
        return NL_OK;
}

static char *nl_reason(const pf_nl_host *h, int nlerr) {
        if (h->last_errno)
                return pf_xasprintf("%s%s%s", strerror(h->last_errno), h->last_msg[0] ? ": " : "", h->last_msg);
        return pf_xstrdup(nl_geterror(nlerr));
}

/* One dump request; every message goes to `cb`. -NLE_DUMP_INTR (the table changed while the
 * kernel was sending it) comes back as is, without *err, for the caller to read again. */
static int dump(pf_nl_host *h, int type, void *hdr, size_t hdr_len, nl_recvmsg_msg_cb_t cb, char **err) {
        h->round_trips++;
        h->last_errno = 0;
        nl_socket_modify_cb(h->sk, NL_CB_VALID, NL_CB_CUSTOM, cb, h);
        int r = nl_send_simple(h->sk, type, NLM_F_DUMP, hdr, hdr_len);
        if (r >= 0)
                r = nl_recvmsgs_default(h->sk);
        nl_socket_modify_cb(h->sk, NL_CB_VALID, NL_CB_DEFAULT, NULL, NULL);
        if (r < 0 && r != -NLE_DUMP_INTR) {
                _cleanup_free_ char *why = nl_reason(h, r);
                *err = pf_xasprintf("cannot list the host's %s over netlink: %s", type == RTM_GETLINK ? "links" : "addresses", why);
        }
        return r < 0 ? r : 0;
}

/* A busy host (IPv6 addresses settling on new links, say) interrupts dumps now and then. */
#define DUMP_TRIES 5

static void clear_addrs(pf_nl_host *h) {
        for (size_t i = 0; i < h->n_links; i++) {
                for (size_t k = 0; k < h->links[i].n_addrs; k++)
                        free(h->links[i].addrs[k]);
                h->links[i].n_addrs = 0;
        }
}

static int interrupted(char **err) {
        *err = pf_xasprintf("the host's links kept changing while podform read them (%d tries); run podform again", DUMP_TRIES);
        return -1;
}

static int observe_addrs(pf_nl_host *h, char **err) {
        for (int attempt = 1; attempt <= DUMP_TRIES; attempt++) {
                clear_addrs(h);
                struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC };
                int r = dump(h, RTM_GETADDR, &ifa, sizeof(ifa), on_addr, err);
                if (r != -NLE_DUMP_INTR)
                        return r < 0 ? -1 : 0;
        }
        return interrupted(err);
}

/* The link dump alone, indexed by name and by ifindex; addresses are left empty. */
static int observe_links(pf_nl_host *h, char **err) {
        for (int attempt = 1; attempt <= DUMP_TRIES; attempt++) {
                links_clear(h);
                struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
                int r = dump(h, RTM_GETLINK, &ifi, sizeof(ifi), on_link, err);
                if (r == -NLE_DUMP_INTR)
                        continue;
                if (r < 0)
                        return -1;
                qsort(h->links, h->n_links, sizeof(*h->links), cmp_link_name);
                h->by_index = pf_xreallocarray(NULL, h->n_links ? h->n_links : 1, sizeof(*h->by_index));
                for (size_t i = 0; i < h->n_links; i++)
                        h->by_index[i] = &h->links[i];
                qsort(h->by_index, h->n_links, sizeof(*h->by_index), cmp_link_index);
                return 0;
        }
        return interrupted(err);
}

static int observe(pf_nl_host *h, char **err) {
        return observe_links(h, err) < 0 ? -1 : observe_addrs(h, err);
}

/* The kernel's reason for a refusal: errno and, with NETLINK_EXT_ACK, its message. */
static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg) {
        (void) who;
        pf_nl_host *h = arg;
        h->last_errno = -e->error;
        h->last_msg[0] = '\0';
        const struct nlmsghdr *nlh = (const struct nlmsghdr *) ((const char *) e - NLMSG_HDRLEN);
        if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
                /* the TLVs follow the echoed request: whole, or its header alone when capped */
                const char *tlv = (const char *) &e->msg + ((nlh->nlmsg_flags & NLM_F_CAPPED) ? NLMSG_HDRLEN
                                                                                           : NLMSG_ALIGN(e->msg.nlmsg_len));
                int len = (int) ((const char *) nlh + nlh->nlmsg_len - tlv);
                struct nlattr *msg = len > 0 ? nla_find((struct nlattr *) tlv, len, NLMSGERR_ATTR_MSG) : NULL;
                if (msg)
                        nla_strlcpy(h->last_msg, msg, sizeof(h->last_msg));
        }
        return NL_STOP;
}

/* ---- ownership ---- */

/* The resource kind as the configuration spells it ("Bridge"). */
static const char *kind_title(pf_rkind k) {
        return pf_kind_enum.names[k == PF_R_BRIDGE ? PF_KIND_BRIDGE : k == PF_R_MACVLAN ? PF_KIND_MACVLAN : PF_KIND_MACVTAP];
}

/* "podform:<Kind>/<name>" on a link of that name: podform created it. */
static bool owned(const live_link *l) {
        if (!l->alias || strncmp(l->alias, "podform:", 8) != 0)
                return false;
        const char *slash = strchr(l->alias + 8, '/');
        return slash && !strcmp(slash + 1, l->name);
}

/* The resource kind of a kernel link kind (the link kinds spell them alike), else false. */
static bool kind_of(const char *kernel_kind, pf_rkind *ret) {
        *ret = pf_rkind_lookup(kernel_kind);
        return pf_rkind_is_link(*ret);
}

/* The record of enslaved ports: "BRIDGE<TAB>PORT" lines, one file per network namespace. */
static bool port_recorded(const pf_nl_host *h, const char *bridge, const char *port) {
        for (size_t i = 0; i < h->n_ports; i++)
                if (!strcmp(h->ports[i].bridge, bridge) && !strcmp(h->ports[i].port, port))
                        return true;
        return false;
}

static void port_record(pf_nl_host *h, const char *bridge, const char *port) {
        if (port_recorded(h, bridge, port))
                return;
        h->ports = pf_xreallocarray(h->ports, h->n_ports + 1, sizeof(*h->ports));
        h->ports[h->n_ports++] = (port_rec) { pf_xstrdup(bridge), pf_xstrdup(port) };
        h->ports_dirty = true;
}

static void port_forget(pf_nl_host *h, const char *bridge, const char *port) {
        for (size_t i = 0; i < h->n_ports; i++)
                if (!strcmp(h->ports[i].bridge, bridge) && (!port || !strcmp(h->ports[i].port, port))) {
                        free(h->ports[i].bridge);
                        free(h->ports[i].port);
                        h->ports[i--] = h->ports[--h->n_ports];
                        h->ports_dirty = true;
                }
}

static int ports_load(pf_nl_host *h, const char *dir, bool read_only, char **err) {
        /* links live in a network namespace, so does the record (init_net has a fixed inode) */
        struct stat st;
        if (stat("/proc/self/ns/net", &st) < 0)
                st.st_ino = 0;
        h->ports_path = pf_xasprintf("%s/links-net%lu.ports", dir, (unsigned long) st.st_ino);
        _cleanup_free_ char *lock = pf_xasprintf("%s.lock", h->ports_path);
        if (!read_only && (h->lock_fd = pf_lock_path(lock)) < 0) {
                *err = pf_xasprintf("cannot lock podform's record of enslaved ports %s: %s (run as root, or set "
                                    "PODFORM_STATE_DIR to a directory of yours)", lock, strerror(errno));
                return -1;
        }
        FILE *f = fopen(h->ports_path, "re");
        if (!f) {
                if (errno == ENOENT)
                        return 0;
                *err = pf_xasprintf("cannot read podform's record of enslaved ports %s: %s", h->ports_path, strerror(errno));
                return -1;
        }
        char line[256];
        unsigned lineno = 0;
        while (fgets(line, sizeof(line), f)) {
                lineno++;
                char *save, *br = strtok_r(line, "\t\n", &save), *port = strtok_r(NULL, "\t\n", &save);
                if (!br || br[0] == '#')
                        continue;
                if (!port) {
                        *err = pf_xasprintf("%s:%u: not a line podform wrote (BRIDGE<TAB>PORT); fix or remove it", h->ports_path, lineno);
                        fclose(f);
                        return -1;
                }
                port_record(h, br, port);
        }
        fclose(f);
        h->ports_dirty = false;
        return 0;
}

int pf_nl_save(pf_nl_host *h, char **err) {
        if (!h->ports_path || !h->ports_dirty || h->lock_fd < 0)
                return 0;       /* memory only, unchanged, or a plan */
        FILE *f = pf_record_begin(h->ports_path);
        if (!f) {
                *err = pf_xasprintf("cannot write podform's record of enslaved ports %s: %s", h->ports_path, strerror(errno));
                return -1;
        }
        fputs("# podform: ports podform enslaved to a bridge (bridge, port); only these are ever released.\n", f);
        for (size_t i = 0; i < h->n_ports; i++)
                fprintf(f, "%s\t%s\n", h->ports[i].bridge, h->ports[i].port);
        if (pf_record_commit(f, h->ports_path) < 0) {
                *err = pf_xasprintf("cannot write podform's record of enslaved ports %s: %s", h->ports_path, strerror(errno));
                return -1;
        }
        h->ports_dirty = false;
        return 0;
}

/* ---- fields: one extractor for both sides ---- */

enum {
        M_TYPE = 1 << 0, M_PARENT = 1 << 1, M_MODE = 1 << 2, M_MTU = 1 << 3, M_MAC = 1 << 4,
        M_STP = 1 << 5, M_DELAY = 1 << 6, M_STATE = 1 << 7, M_ADDRS = 1 << 8, M_PORTS = 1 << 9,
};

/* A link as podform compares it, read from a declaration or from the kernel. */
typedef struct link_spec {
        const char *type;               /* the kernel's link kind: "bridge", "macvtap", "veth" */
        const char *parent;             /* name */
        const char *mode;               /* macvlan mode */
        unsigned mtu;
        const char *mac;
        bool stp;
        unsigned delay_cs;
        bool up;
        const char **addrs;
        size_t n_addrs;
        const char **ports;
        size_t n_ports;
} link_spec;

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *) a, *(const char *const *) b); }

/* A sorted list, items separated by ", " ("" when empty): interface names may contain a comma
 * but never a space, so the list splits back exactly. */
static const char *join(pf_arena *a, const char **v, size_t n) {
        qsort(v, n, sizeof(*v), cmp_str);
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
                len += strlen(v[i]) + 2;
        char *s = pf_arena_alloc(a, len), *p = s;
        *p = '\0';
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "%s%s", i ? ", " : "", v[i]);
        return s;
}

static void link_fields(const link_spec *s, unsigned mask, pf_fields *b) {
        char buf[32];
        pf_field_add(b, PF_LAND_RECREATE, 0, s->type, "type");
        if ((mask & M_PARENT) && s->parent)
                pf_field_add(b, PF_LAND_RECREATE, 0, s->parent, "parent");
        if ((mask & M_MODE) && s->mode)
                pf_field_add(b, PF_LAND_LIVE, 0, s->mode, "mode");
        if ((mask & M_MTU) && s->mtu) {
                snprintf(buf, sizeof(buf), "%u", s->mtu);
                pf_field_add(b, PF_LAND_LIVE, 0, buf, "mtu");
        }
        /* a running guest on a macvtap keeps its own MAC until it restarts, and a macvtap
         * passes only frames for the macvtap's */
        if ((mask & M_MAC) && s->mac)
                pf_field_add(b, PF_LAND_LIVE, !strcmp(s->type, "macvtap") ? PF_FIELD_DISRUPTS : 0, s->mac, "macAddress");
        if (mask & M_STP)
                pf_field_add(b, PF_LAND_LIVE, 0, s->stp ? "true" : "false", "stp");
        if (mask & M_DELAY) {
                /* the kernel keeps clock ticks; a delay set by hand need not be whole seconds */
                if (s->delay_cs % 100)
                        snprintf(buf, sizeof(buf), "%u.%02u", s->delay_cs / 100, s->delay_cs % 100);
                else
                        snprintf(buf, sizeof(buf), "%u", s->delay_cs / 100);
                pf_field_add(b, PF_LAND_LIVE, 0, buf, "forwardDelay");
        }
        if (mask & M_STATE)
                pf_field_add(b, PF_LAND_LIVE, 0, s->up ? "up" : "down", "state");
        if ((mask & M_ADDRS) && s->n_addrs)
                pf_field_add(b, PF_LAND_LIVE, 0, join(b->arena, s->addrs, s->n_addrs), "addresses");
        if ((mask & M_PORTS) && s->n_ports)
                pf_field_add(b, PF_LAND_LIVE, 0, join(b->arena, s->ports, s->n_ports), "ports");
        if (s->parent)
                pf_need_link(b, s->parent);
}

/* the configuration's spelling of a mode is pf_macvlan_mode_enum's */
static const unsigned macvlan_kernel_modes[] = {
        [PF_MACVLAN_PRIVATE] = MACVLAN_MODE_PRIVATE, [PF_MACVLAN_VEPA] = MACVLAN_MODE_VEPA,
        [PF_MACVLAN_BRIDGE] = MACVLAN_MODE_BRIDGE, [PF_MACVLAN_PASSTHRU] = MACVLAN_MODE_PASSTHRU,
};

static const char *kernel_mode_name(unsigned m) {
        for (size_t i = 0; i < sizeof(macvlan_kernel_modes) / sizeof(*macvlan_kernel_modes); i++)
                if (macvlan_kernel_modes[i] == m)
                        return pf_enum_name(&pf_macvlan_mode_enum, (int) i);
        return m == MACVLAN_MODE_SOURCE ? "source" : "?";
}

/* A declaration, whatever its kind. */
typedef struct decl {
        pf_rkind kind;
        const pf_bridge *br;
        const pf_macvlan *mv;
        const pf_mac *mac;      /* declared, or a Macvtap's from the VM interface on it */
} decl;

static void decl_fill(const pf_nl_host *h, decl *x, pf_rkind kind, const pf_bridge *br, const pf_macvlan *mv) {
        *x = (decl) { kind, br, mv, NULL };
        if (br && pf_loc_set(br->mac_address_loc))
                x->mac = &br->mac_address;
        else if (mv && kind == PF_R_MACVTAP)
                x->mac = pf_macvtap_mac(h->model, mv, NULL);
        else if (mv && pf_loc_set(mv->mac_address_loc))
                x->mac = &mv->mac_address;
}

static const pf_meta *decl_meta(const decl *x) { return x->br ? &x->br->meta : &x->mv->meta; }

/* Seconds: as declared; else 0 without STP (forward at once, what PXE needs) and the kernel's
 * 15 with it (the only range STP accepts is 2 to 30). */
static unsigned bridge_delay(const pf_bridge *b) {
        return pf_loc_set(b->forward_delay_loc) ? b->forward_delay : b->stp ? 15 : 0;
}

static pf_macvlan_mode decl_mode(const pf_nl_host *h, const pf_macvlan *mv) {
        return pf_loc_set(mv->mode_loc) ? mv->mode : h->host->default_macvlan_mode;
}

/* What podform manages of a declared link: all of it when podform created it (or will),
 * only the declared fields of someone else's. */
static unsigned decl_mask(const decl *x, bool adopted) {
        unsigned m = M_TYPE;
        if (x->br) {
                const pf_bridge *b = x->br;
                if (!adopted || pf_loc_set(b->stp_loc)) m |= M_STP;
                if (!adopted || pf_loc_set(b->forward_delay_loc)) m |= M_DELAY;
                if (!adopted || pf_loc_set(b->state_loc)) m |= M_STATE;
                if (!adopted || pf_loc_set(b->addresses_loc)) m |= M_ADDRS;
                if (!adopted || pf_loc_set(b->ports_loc)) m |= M_PORTS;
                if (pf_loc_set(b->mtu_loc)) m |= M_MTU;
                if (pf_loc_set(b->mac_address_loc)) m |= M_MAC;
        } else {
                const pf_macvlan *v = x->mv;
                m |= M_PARENT;
                if (!adopted || pf_loc_set(v->mode_loc)) m |= M_MODE;
                if (!adopted || pf_loc_set(v->state_loc)) m |= M_STATE;
                if (x->kind == PF_R_MACVLAN && (!adopted || pf_loc_set(v->addresses_loc))) m |= M_ADDRS;
                if (pf_loc_set(v->mac_address_loc) || (x->kind == PF_R_MACVTAP && x->mac)) m |= M_MAC;
        }
        return m;
}

static void decl_spec(const pf_nl_host *h, const decl *x, pf_arena *a, link_spec *s) {
        char buf[64];
        *s = (link_spec) { .type = x->kind == PF_R_BRIDGE ? "bridge" : x->kind == PF_R_MACVLAN ? "macvlan" : "macvtap" };
        const pf_mac *mac = NULL;
        const pf_cidr_item *addrs = NULL;
        size_t n_addrs = 0;
        if (x->br) {
                const pf_bridge *b = x->br;
                s->stp = b->stp;
                s->delay_cs = bridge_delay(b) * 100;
                s->up = b->state == PF_LINK_UP;
                s->mtu = b->mtu;
                if (pf_loc_set(b->mac_address_loc))
                        mac = &b->mac_address;
                addrs = b->addresses.v;
                n_addrs = b->addresses.n;
                s->ports = pf_arena_array(a, b->ports.n + 1, sizeof(*s->ports));
                for (size_t i = 0; i < b->ports.n; i++)
                        s->ports[s->n_ports++] = b->ports.v[i].name;
        } else {
                const pf_macvlan *v = x->mv;
                s->parent = v->parent;
                s->mode = pf_enum_name(&pf_macvlan_mode_enum, decl_mode(h, v));
                s->up = v->state == PF_LINK_UP;
                mac = x->mac;
                addrs = v->addresses.v;
                n_addrs = v->addresses.n;
        }
        if (mac)
                s->mac = pf_arena_strdup(a, pf_mac_format(mac, buf));
        s->addrs = pf_arena_array(a, n_addrs + 1, sizeof(*s->addrs));
        for (size_t i = 0; i < n_addrs; i++)
                s->addrs[s->n_addrs++] = pf_arena_strdup(a, pf_cidr_format(&addrs[i].cidr, buf));
}

static bool declared_port(const decl *x, const char *port) {
        for (size_t i = 0; x && x->br && i < x->br->ports.n; i++)
                if (!strcmp(x->br->ports.v[i].name, port))
                        return true;
        return false;
}

static void live_spec(const pf_nl_host *h, const live_link *l, const decl *x, pf_arena *a, link_spec *s) {
        *s = (link_spec) { .type = l->kind[0] ? l->kind : "device", .mtu = l->mtu, .mac = l->mac[0] ? l->mac : NULL,
                           .stp = l->stp != 0, .delay_cs = l->delay_cs, .up = (l->flags & IFF_UP) != 0 };
        if (l->parent) {
                const live_link *p = l->parent_elsewhere ? NULL : link_by_index(h, l->parent);
                s->parent = p ? p->name : "(another network namespace)";
        }
        if (!strcmp(l->kind, "macvlan") || !strcmp(l->kind, "macvtap"))
                s->mode = kernel_mode_name(l->macvlan_mode);
        s->addrs = (const char **) l->addrs;
        s->n_addrs = l->n_addrs;
        if (strcmp(l->kind, "bridge") != 0)
                return;
        /* only ports podform manages: declared, or enslaved by podform; a VM's tap or a port
         * someone else added is never a field, so never released */
        size_t n = 0;
        for (size_t i = 0; i < h->n_links; i++)
                n += h->links[i].master == l->ifindex;
        s->ports = pf_arena_array(a, n + 1, sizeof(*s->ports));
        for (size_t i = 0; i < h->n_links; i++) {
                const live_link *p = &h->links[i];
                if (p->master == l->ifindex && (declared_port(x, p->name) || port_recorded(h, l->name, p->name)))
                        s->ports[s->n_ports++] = p->name;
        }
}

/* ---- build ---- */

static const char *declared_kind(const pf_model *m, const char *name) {
        for (size_t i = 0; i < m->bridges.n; i++)
                if (m->bridges.v[i].meta.name && !strcmp(m->bridges.v[i].meta.name, name))
                        return "bridge";
        for (size_t i = 0; i < m->macvtaps.n; i++)
                if (m->macvtaps.v[i].meta.name && !strcmp(m->macvtaps.v[i].meta.name, name))
                        return "macvtap";
        for (size_t i = 0; i < m->macvlans.n; i++)
                if (m->macvlans.v[i].meta.name && !strcmp(m->macvlans.v[i].meta.name, name))
                        return "macvlan";
        return NULL;
}

const char *pf_nl_link_kind(void *ud, const char *ifname) {
        const pf_nl_host *h = ud;
        const char *declared = h->model ? declared_kind(h->model, ifname) : NULL;
        if (declared)
                return declared;
        const live_link *l = link_by_name(h, ifname);
        return !l ? NULL : l->kind[0] ? l->kind : "device";
}

/* The declared Bridge that lists `port`, or NULL. */
static const char *declared_bridge_of(const pf_model *m, const char *port) {
        for (size_t i = 0; i < m->bridges.n; i++)
                for (size_t k = 0; k < m->bridges.v[i].ports.n; k++)
                        if (!strcmp(m->bridges.v[i].ports.v[k].name, port))
                                return m->bridges.v[i].meta.name;
        return NULL;
}

/* The bridge `ifname` is (or is declared to become) a port of, or NULL. */
const char *pf_nl_port_of(void *ud, const char *ifname) {
        const pf_nl_host *h = ud;
        const char *declared = declared_bridge_of(h->model, ifname);
        if (declared)
                return declared;
        /* a port podform enslaved and no longer declares is released before links are created */
        const live_link *l = link_by_name(h, ifname), *master = l && l->master ? link_by_index(h, l->master) : NULL;
        return master && !strcmp(master->kind, "bridge") && !port_recorded(h, master->name, ifname) ? master->name : NULL;
}

pf_link_view pf_nl_link_view(pf_nl_host *h) {
        return (pf_link_view) { .kind = pf_nl_link_kind, .port_of = pf_nl_port_of, .ud = h };
}

/* The declared parent of a declared Macvtap or Macvlan, or NULL. */
static const char *declared_parent(const pf_model *m, const char *name) {
        for (size_t i = 0; i < m->macvlans.n; i++)
                if (!strcmp(m->macvlans.v[i].meta.name, name))
                        return m->macvlans.v[i].parent;
        for (size_t i = 0; i < m->macvtaps.n; i++)
                if (!strcmp(m->macvtaps.v[i].meta.name, name))
                        return m->macvtaps.v[i].parent;
        return NULL;
}

/* A live macvlan or macvtap on `parent` that is not declared there: someone else's, podform's
 * to prune, or one that moves to another parent later in the same apply (links of one kind are
 * created before the next kind is changed). NULL when none. */
static const live_link *undeclared_child(const pf_nl_host *h, const live_link *parent) {
        for (size_t i = 0; i < h->n_links; i++) {
                const live_link *c = &h->links[i];
                if (c->parent != parent->ifindex || c->parent_elsewhere || (strcmp(c->kind, "macvlan") && strcmp(c->kind, "macvtap")))
                        continue;
                const char *dp = declared_parent(h->model, c->name);
                if (!dp || strcmp(dp, parent->name) != 0)
                        return c;
        }
        return NULL;
}

/* The kernel puts a macvlan declared on a macvlan or macvtap on that one's parent instead, so
 * the parent read back would differ from the declared one on every run. */
static void check_parent_kind(const pf_nl_host *h, const decl *x, pf_diags *d) {
        const char *parent = x->mv->parent, *kind = pf_nl_link_kind((void *) h, parent);
        if (!kind || (strcmp(kind, "macvlan") != 0 && strcmp(kind, "macvtap") != 0))
                return;
        const char *lower = declared_parent(h->model, parent);
        const live_link *l = lower ? NULL : link_by_name(h, parent);
        const live_link *ll = l && l->parent && !l->parent_elsewhere ? link_by_index(h, l->parent) : NULL;
        if (!lower)
                lower = ll ? ll->name : "its parent";
        pf_error(d, x->mv->parent_loc, "parent '%s' is a %s; the kernel puts a %s on that one's parent instead: use "
                 "parent: %s", parent, kind, x->kind == PF_R_MACVLAN ? "macvlan" : "macvtap", lower);
}

/* passthru gives the parent to one link: the kernel refuses a second one either way round. */
static void check_passthru(const pf_nl_host *h, const decl *x, pf_diags *d) {
        const pf_model *m = h->model;
        const char *name = x->mv->meta.name, *parent = x->mv->parent;
        bool passthru = decl_mode(h, x->mv) == PF_MACVLAN_PASSTHRU;
        const char *other = NULL;
        bool other_passthru = false;
        const pf_macvlan *lists[2] = { m->macvlans.v, m->macvtaps.v };
        size_t counts[2] = { m->macvlans.n, m->macvtaps.n };
        for (size_t k = 0; k < 2; k++)
                for (size_t i = 0; i < counts[k]; i++) {
                        const pf_macvlan *o = &lists[k][i];
                        if (o->meta.load_failed || !o->parent || strcmp(o->parent, parent) != 0 || !strcmp(o->meta.name, name))
                                continue;
                        if (!other || decl_mode(h, o) == PF_MACVLAN_PASSTHRU) {
                                other = o->meta.name;
                                other_passthru = decl_mode(h, o) == PF_MACVLAN_PASSTHRU;
                        }
                }
        const live_link *pl = link_by_name(h, parent);
        for (size_t i = 0; pl && i < h->n_links; i++) {
                const live_link *c = &h->links[i];
                if (c->parent != pl->ifindex || c->parent_elsewhere || !strcmp(c->name, name) ||
                    (strcmp(c->kind, "macvlan") != 0 && strcmp(c->kind, "macvtap") != 0))
                        continue;
                /* declared on this parent: counted above; declared elsewhere: it is still here when
                 * this one is created, unless it moves first, which the order does not promise */
                const char *dp = declared_parent(m, c->name);
                if (dp && !strcmp(dp, parent))
                        continue;
                if (!other || c->macvlan_mode == MACVLAN_MODE_PASSTHRU) {
                        other = c->name;
                        other_passthru = c->macvlan_mode == MACVLAN_MODE_PASSTHRU;
                }
        }
        if (passthru && other)
                pf_error(d, pf_loc_set(x->mv->mode_loc) ? x->mv->mode_loc : x->mv->parent_loc, "mode passthru gives '%s' to "
                         "one link, but %s sits on it too; the kernel refuses a second link beside passthru (move %s "
                         "first: apply once without this one, with --prune if %s is podform's and no longer declared)",
                         parent, other, other, other);
        else if (!passthru && other_passthru)
                pf_error(d, x->mv->parent_loc, "'%s' is given to %s in mode passthru, and the kernel puts no other link "
                         "beside it", parent, other);
}

static void check_exists(const pf_nl_host *h, pf_diags *d, pf_loc at, const char *what, const char *ifname, const char *fix) {
        if (!pf_nl_link_kind((void *) h, ifname))
                pf_error(d, at, "%s '%s' is neither a link on this host nor declared as a Bridge, Macvtap or Macvlan; %s",
                         what, ifname, fix);
}

static void add_decl(pf_nl_host *h, pf_rkind kind, const pf_bridge *br, const pf_macvlan *mv, pf_objset *want,
                     pf_objset *have, pf_diags *d) {
        decl xd = { 0 }, *x = &xd;
        decl_fill(h, x, kind, br, mv);
        const pf_meta *meta = decl_meta(x);
        live_link *l = link_by_name(h, meta->name);
        pf_rkind live_kind;
        bool same_kind = l && kind_of(l->kind, &live_kind) && live_kind == x->kind;
        bool mine = l && owned(l);
        if (l && !same_kind && !mine) {
                pf_error(d, meta->name_loc, "%s %s: the name is taken by a %s link podform did not create; podform does not "
                         "replace someone else's link: rename the %s, or delete the link by hand",
                         kind_title(x->kind), meta->name, l->kind[0] ? l->kind : "network device", kind_title(x->kind));
                return;
        }
        /* checks that would otherwise fail at apply time */
        if (x->mv && x->mv->parent) {
                check_exists(h, d, x->mv->parent_loc, "parent", x->mv->parent, "create it, declare it, or fix the name");
                /* a bridge port hands its frames to the bridge: the kernel refuses a macvlan on it */
                const char *bridge = pf_nl_port_of((void *) h, x->mv->parent);
                if (bridge)
                        pf_error(d, x->mv->parent_loc, "parent '%s' is a port of bridge %s, and the kernel puts no macvlan "
                                 "or macvtap on a bridge port; use parent: %s", x->mv->parent, bridge, bridge);
                check_parent_kind(h, x, d);
                check_passthru(h, x, d);
        }
        for (size_t i = 0; x->br && i < x->br->ports.n; i++) {
                const pf_name *p = &x->br->ports.v[i];
                const char *other = declared_bridge_of(h->model, p->name);
                if (other && strcmp(other, meta->name) != 0)
                        pf_error(d, p->loc, "port '%s' is also declared on Bridge %s; a link is a port of one bridge at a "
                                 "time, so podform would move it back and forth", p->name, other);
                const live_link *pl = link_by_name(h, p->name);
                if (!pl)
                        pf_error(d, p->loc, "port '%s' of Bridge %s is not a link on this host; ports are existing links "
                                 "(NICs, veths) podform enslaves; create it or fix the name", p->name, meta->name);
                else if (!strcmp(pl->kind, "bridge"))
                        pf_error(d, p->loc, "port '%s' of Bridge %s is a bridge itself, which the kernel cannot enslave",
                                 p->name, meta->name);
                const live_link *child = pl ? undeclared_child(h, pl) : NULL;
                if (child)
                        pf_error(d, p->loc, "port '%s' of Bridge %s carries %s %s, and the kernel enslaves no link that "
                                 "has macvlans on it; move %s off %s first: apply once without the port (with --prune if "
                                 "%s is podform's and no longer declared)", p->name, meta->name, child->kind, child->name,
                                 child->name, p->name, child->name);
        }

        unsigned mask = decl_mask(x, l && !mine);
        link_spec s;
        pf_fields b;
        pf_fields_init(&b, &want->arena);
        decl_spec(h, x, &want->arena, &s);
        link_fields(&s, mask, &b);
        size_t wi = want->objs.n;
        pf_obj *w = pf_objset_add(want, x->kind, meta->name);
        w->active = true;
        w->loc = meta->name_loc;
        pf_fields_finish(&b, w);
        if (!l) {
                pf_fields_free(&b);
                return;
        }
        l->claimed = true;
        pf_fields_free(&b);
        pf_fields_init(&b, &have->arena);
        live_spec(h, l, x, &have->arena, &s);
        link_fields(&s, mask, &b);
        pf_obj *o = pf_objset_add(have, x->kind, meta->name);
        o->owned = mine;
        pf_fields_finish(&b, o);
        pf_fields_free(&b);
        /* the kernel changes a macvlan's mode in place, except into or out of passthru */
        pf_field *wm = (pf_field *) pf_obj_field(&want->objs.v[wi], "mode");
        const pf_field *hm = pf_obj_field(o, "mode");
        if (wm && hm && strcmp(wm->value, hm->value) && (!strcmp(wm->value, "passthru") || !strcmp(hm->value, "passthru")))
                wm->landing = PF_LAND_RECREATE;
        /* recreating someone else's link would make it podform's: that is theirs to decide */
        const pf_obj *wo = &want->objs.v[wi];
        for (size_t i = 0; !mine && i < wo->fields.n; i++) {
                const pf_field *wf = &wo->fields.v[i], *hf = pf_obj_field(o, wf->key);
                if (wf->landing == PF_LAND_RECREATE && hf && strcmp(wf->value, hf->value) != 0)
                        pf_error(d, meta->name_loc, "%s %s is not podform's, and changing its %s from %s to %s means "
                                 "deleting and creating it; delete it by hand (podform then creates it as its own) or "
                                 "keep %s", kind_title(x->kind), meta->name, wf->key, hf->value, wf->value, hf->value);
        }
}

static void add_live(pf_nl_host *h, live_link *l, pf_objset *have) {
        pf_rkind k;
        if (l->claimed || !kind_of(l->kind, &k))
                return;
        link_spec s;
        pf_fields b;
        pf_fields_init(&b, &have->arena);
        live_spec(h, l, NULL, &have->arena, &s);
        link_fields(&s, ~0u, &b);
        pf_obj *o = pf_objset_add(have, k, l->name);
        o->owned = owned(l);
        pf_fields_finish(&b, o);
        pf_fields_free(&b);
}

/* Libvirt networks that sit on host links: their bridge or forward devices must exist. */
static void check_networks(const pf_nl_host *h, const pf_model *m, pf_diags *d) {
        for (size_t i = 0; i < m->networks.n; i++) {
                const pf_network *n = &m->networks.v[i];
                if (pf_forward_own_bridge(n->forward))
                        continue;       /* not on host links */
                const char *kind = n->bridge_name ? pf_nl_link_kind((void *) h, n->bridge_name) : NULL;
                if (n->bridge_name)
                        check_exists(h, d, n->bridge_name_loc, "bridge", n->bridge_name,
                                     "forward: bridge attaches to an existing bridge; declare it as a Bridge or fix the name");
                if (kind && strcmp(kind, "bridge") != 0)
                        pf_error(d, n->bridge_name_loc, "bridge '%s' of Network %s is a %s, not a bridge; forward: bridge "
                                 "needs one (declare a Bridge), or use \"interfaces\" for macvtap devices", n->bridge_name,
                                 n->meta.name, kind);
                for (size_t x = 0; x < n->interfaces.n; x++) {
                        const char *dev = n->interfaces.v[x].name, *bridge = pf_nl_port_of((void *) h, dev);
                        check_exists(h, d, n->interfaces.v[x].loc, "forward interface", dev,
                                     "create it, declare it, or fix the name");
                        if (bridge)
                                pf_error(d, n->interfaces.v[x].loc, "forward interface '%s' is a port of bridge %s, and "
                                         "the kernel puts no macvtap on a bridge port; use forward: bridge with "
                                         "bridge.name %s instead", dev, bridge, bridge);
                }
        }
}

int pf_nl_build(pf_nl_host *h, const pf_nl_env *env, pf_objset *want, pf_objset *have, pf_diags *d, char **err) {
        h->model = env->model;
        h->host = env->host;
        if (observe(h, err) < 0)
                return -1;
        const pf_model *m = env->model;
        for (size_t i = 0; i < m->bridges.n; i++)
                if (!m->bridges.v[i].meta.load_failed)
                        add_decl(h, PF_R_BRIDGE, &m->bridges.v[i], NULL, want, have, d);
        for (size_t i = 0; i < m->macvlans.n; i++)
                if (!m->macvlans.v[i].meta.load_failed)
                        add_decl(h, PF_R_MACVLAN, NULL, &m->macvlans.v[i], want, have, d);
        for (size_t i = 0; i < m->macvtaps.n; i++)
                if (!m->macvtaps.v[i].meta.load_failed)
                        add_decl(h, PF_R_MACVTAP, NULL, &m->macvtaps.v[i], want, have, d);
        for (size_t i = 0; i < h->n_links; i++)
                add_live(h, &h->links[i], have);
        check_networks(h, m, d);
        /* a recorded port no longer on its bridge was released by someone else: forget it */
        for (size_t i = 0; i < h->n_ports; i++) {
                const live_link *br = link_by_name(h, h->ports[i].bridge), *p = link_by_name(h, h->ports[i].port);
                if (!br || !p || p->master != br->ifindex) {
                        free(h->ports[i].bridge);
                        free(h->ports[i].port);
                        h->ports[i--] = h->ports[--h->n_ports];
                        h->ports_dirty = true;
                }
        }
        return 0;
}

/* ---- apply ---- */

/* Every change goes through here: one request, one acknowledgement. */
static int change(pf_nl_host *h, struct nl_msg *msg, const char *what, const pf_action *a, char **err) {
        h->mutations++;
        h->round_trips++;
        h->last_errno = 0;
        int r = nl_send_sync(h->sk, msg);
        if (r < 0) {
                _cleanup_free_ char *why = nl_reason(h, r);
                *err = pf_xasprintf("%s %s: %s: %s", pf_rkind_name(a->kind), a->name, what, why);
                return -1;
        }
        return 0;
}

static struct nl_msg *link_msg(int type, int flags, int ifindex, unsigned ifi_flags, unsigned ifi_change) {
        struct nl_msg *msg = nlmsg_alloc_simple(type, flags);
        if (!msg)
                pf_oom();
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex, .ifi_flags = ifi_flags, .ifi_change = ifi_change };
        if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
                pf_oom();
        return msg;
}

static void put_ok(int r) {
        if (r < 0)      /* messages grow on demand; only allocation fails */
                pf_oom();
}

static int on_get(struct nl_msg *msg, void *arg) {
        struct nlmsghdr *nlh = nlmsg_hdr(msg);
        if (nlh->nlmsg_type == RTM_NEWLINK)
                parse_link(nlh, arg);
        return NL_OK;
}

/* The link of that name as the kernel has it now (apply creates links observation never saw). */
static int get_link(pf_nl_host *h, const char *name, live_link *ret) {
        _cleanup_nl_msg_ struct nl_msg *msg = link_msg(RTM_GETLINK, 0, 0, 0, 0);
        put_ok(nla_put_string(msg, IFLA_IFNAME, name));
        h->round_trips++;
        h->last_errno = 0;
        *ret = (live_link) { 0 };
        nl_socket_modify_cb(h->sk, NL_CB_VALID, NL_CB_CUSTOM, on_get, ret);
        int r = nl_send_auto(h->sk, msg);
        if (r >= 0)
                r = nl_recvmsgs_default(h->sk);
        /* the link comes first, then the acknowledgement, in a datagram of its own */
        if (r >= 0)
                r = nl_wait_for_ack(h->sk);
        nl_socket_modify_cb(h->sk, NL_CB_VALID, NL_CB_DEFAULT, NULL, NULL);
        free(ret->alias);
        ret->alias = NULL;
        return r < 0 || !ret->ifindex ? -1 : 0;
}

static int ifindex_of(pf_nl_host *h, const char *name, const char *role, const pf_action *a, char **err) {
        live_link l;
        if (get_link(h, name, &l) < 0) {
                *err = pf_xasprintf("%s %s: %s '%s' is not a link on this host", pf_rkind_name(a->kind), a->name, role, name);
                return -1;
        }
        return l.ifindex;
}

static const decl *find_decl(pf_nl_host *h, pf_rkind kind, const char *name, decl *ret) {
        const pf_model *m = h->model;
        const pf_bridge *br = NULL;
        const pf_macvlan *mv = NULL;
        if (kind == PF_R_BRIDGE) {
                for (size_t i = 0; i < m->bridges.n; i++)
                        if (!strcmp(m->bridges.v[i].meta.name, name))
                                br = &m->bridges.v[i];
        } else {
                const pf_macvlan *v = kind == PF_R_MACVLAN ? m->macvlans.v : m->macvtaps.v;
                size_t n = kind == PF_R_MACVLAN ? m->macvlans.n : m->macvtaps.n;
                for (size_t i = 0; i < n; i++)
                        if (!strcmp(v[i].meta.name, name))
                                mv = &v[i];
        }
        if (!br && !mv)
                return NULL;
        decl_fill(h, ret, kind, br, mv);
        return ret;
}

/* IFLA_LINKINFO with the kind-specific settings in `mask`. */
static void put_linkinfo(pf_nl_host *h, struct nl_msg *msg, const decl *x, unsigned mask) {
        struct nlattr *info = nla_nest_start(msg, IFLA_LINKINFO);
        put_ok(nla_put_string(msg, IFLA_INFO_KIND, x->kind == PF_R_BRIDGE ? "bridge" : x->kind == PF_R_MACVLAN ? "macvlan" : "macvtap"));
        if (mask & (M_STP | M_DELAY | M_MODE)) {
                struct nlattr *data = nla_nest_start(msg, IFLA_INFO_DATA);
                if (x->br) {
                        /* the kernel sets the delay before STP (turning STP off goes first, alone) */
                        if (mask & M_DELAY)
                                put_ok(nla_put_u32(msg, IFLA_BR_FORWARD_DELAY, bridge_delay(x->br) * 100));
                        if (mask & M_STP)
                                put_ok(nla_put_u32(msg, IFLA_BR_STP_STATE, x->br->stp));
                } else if (mask & M_MODE) {
                        put_ok(nla_put_u32(msg, IFLA_MACVLAN_MODE, macvlan_kernel_modes[decl_mode(h, x->mv)]));
                }
                nla_nest_end(msg, data);
        }
        nla_nest_end(msg, info);
}

static void put_common(struct nl_msg *msg, const decl *x, unsigned mask) {
        unsigned mtu = x->br ? x->br->mtu : 0;
        const pf_mac *mac = x->mac;
        if ((mask & M_MTU) && mtu)
                put_ok(nla_put_u32(msg, IFLA_MTU, mtu));
        if ((mask & M_MAC) && mac)
                put_ok(nla_put(msg, IFLA_ADDRESS, 6, mac->b));
}

static bool decl_up(const decl *x) { return (x->br ? x->br->state : x->mv->state) == PF_LINK_UP; }

static int addr_change(pf_nl_host *h, int type, int ifindex, const char *cidr, const pf_action *a, char **err) {
        char ip[INET6_ADDRSTRLEN];
        const char *slash = strchr(cidr, '/');
        size_t len = slash ? (size_t) (slash - cidr) : strlen(cidr);
        snprintf(ip, sizeof(ip), "%.*s", (int) len, cidr);
        unsigned char bin[16];
        int family = strchr(ip, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(family, ip, bin) != 1) {
                *err = pf_xasprintf("%s %s: address %s cannot be parsed", pf_rkind_name(a->kind), a->name, cidr);
                return -1;
        }
        struct nl_msg *msg = nlmsg_alloc_simple(type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
        if (!msg)
                pf_oom();
        struct ifaddrmsg ifa = { .ifa_family = (unsigned char) family, .ifa_prefixlen = (unsigned char) (slash ? atoi(slash + 1) : (family == AF_INET ? 32 : 128)),
                                 .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = (unsigned) ifindex };
        put_ok(nlmsg_append(msg, &ifa, sizeof(ifa), NLMSG_ALIGNTO));
        size_t n = family == AF_INET ? 4 : 16;
        put_ok(nla_put(msg, IFA_LOCAL, (int) n, bin));
        put_ok(nla_put(msg, IFA_ADDRESS, (int) n, bin));
        char what[128];
        snprintf(what, sizeof(what), "%s address %s", type == RTM_NEWADDR ? "adding" : "removing", cidr);
        return change(h, msg, what, a, err);
}

static int set_master(pf_nl_host *h, const char *bridge, int bridge_index, const char *port, bool enslave,
                      const pf_action *a, char **err) {
        live_link pl;
        if (get_link(h, port, &pl) < 0) {
                if (!enslave) {         /* gone, so released */
                        port_forget(h, bridge, port);
                        return 0;
                }
                *err = pf_xasprintf("%s %s: port '%s' is not a link on this host", pf_rkind_name(a->kind), a->name, port);
                return -1;
        }
        if (!enslave && pl.master != bridge_index) {
                /* another bridge took it earlier in this apply (or someone did): not ours to release */
                port_forget(h, bridge, port);
                return 0;
        }
        struct nl_msg *msg = link_msg(RTM_NEWLINK, 0, pl.ifindex, 0, 0);
        put_ok(nla_put_u32(msg, IFLA_MASTER, enslave ? (uint32_t) bridge_index : 0));
        char what[64];
        snprintf(what, sizeof(what), "%s port %s", enslave ? "enslaving" : "releasing", port);
        if (change(h, msg, what, a, err) < 0)
                return -1;
        if (enslave)
                port_record(h, bridge, port);
        else
                port_forget(h, bridge, port);
        return 0;
}

/* The items of a list field value (join()). */
typedef struct items { char *buf; const char **v; size_t n; } items;

static void split(const char *s, items *it) {
        it->n = 0;
        it->buf = pf_xstrdup(s ? s : "");
        it->v = pf_xreallocarray(NULL, strlen(it->buf) / 2 + 2, sizeof(*it->v));
        for (char *p = it->buf; *p;) {
                char *sep = strstr(p, ", ");
                it->v[it->n++] = p;
                if (!sep)
                        break;
                *sep = '\0';
                p = sep + 2;
        }
}

static void items_free(items *it) {
        free(it->buf);
        free(it->v);
}

static bool has_item(const items *it, const char *s) {
        for (size_t i = 0; i < it->n; i++)
                if (!strcmp(it->v[i], s))
                        return true;
        return false;
}

static int reobserve_addrs(pf_nl_host *h, char **err, const pf_action *a);

static bool has_addr(const live_link *l, const char *cidr) {
        for (size_t i = 0; l && i < l->n_addrs; i++)
                if (!strcmp(l->addrs[i], cidr))
                        return true;
        return false;
}

/* Addresses and ports: from the old list to the new one, removals first. */
static int sync_lists(pf_nl_host *h, int ifindex, const char *key, const char *old_value, const char *new_value,
                      const pf_action *a, char **err) {
        items before, after;
        split(old_value, &before);
        split(new_value, &after);
        int r = 0;
        bool ports = !strcmp(key, "ports"), removed = false;
        for (size_t i = 0; r == 0 && i < before.n; i++)
                if (!has_item(&after, before.v[i])) {
                        r = ports ? set_master(h, a->name, ifindex, before.v[i], false, a, err)
                                  : addr_change(h, RTM_DELADDR, ifindex, before.v[i], a, err);
                        removed = true;
                }
        /* removing an IPv4 primary takes its subnet's secondaries along (promote_secondaries
         * is off by default): what to add is judged on what the link has now */
        const live_link *l = NULL;
        bool fresh = r == 0 && removed && !ports && reobserve_addrs(h, err, a) == 0;
        if (r == 0 && removed && !ports && !fresh)
                r = -1;
        if (fresh)
                l = link_by_name(h, a->name);
        for (size_t i = 0; r == 0 && i < after.n; i++)
                if (fresh ? !has_addr(l, after.v[i]) : !has_item(&before, after.v[i]))
                        r = ports ? set_master(h, a->name, ifindex, after.v[i], true, a, err)
                                  : addr_change(h, RTM_NEWADDR, ifindex, after.v[i], a, err);
        items_free(&before);
        items_free(&after);
        return r;
}

static int delete_link(pf_nl_host *h, int ifindex, const pf_action *a, char **err) {
        struct nl_msg *msg = link_msg(RTM_DELLINK, 0, ifindex, 0, 0);
        if (change(h, msg, "deleting the link", a, err) < 0)
                return -1;
        if (a->kind == PF_R_BRIDGE)
                port_forget(h, a->name, NULL);
        return 0;
}

static int create_link(pf_nl_host *h, const decl *x, const pf_action *a, char **err) {
        unsigned mask = decl_mask(x, false);
        int parent = 0;
        if (x->mv && (parent = ifindex_of(h, x->mv->parent, "parent", a, err)) < 0)
                return -1;
        bool up = decl_up(x);
        struct nl_msg *msg = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, up ? IFF_UP : 0, IFF_UP);
        put_ok(nla_put_string(msg, IFLA_IFNAME, a->name));
        if (parent)
                put_ok(nla_put_u32(msg, IFLA_LINK, (uint32_t) parent));
        put_common(msg, x, mask & ~M_MTU);
        put_linkinfo(h, msg, x, mask);
        if (change(h, msg, "creating the link", a, err) < 0)
                return -1;
        int self = ifindex_of(h, a->name, "the link just created", a, err);
        if (self < 0)
                return -1;
        /* the kernel ignores an alias in the creation request, so it is a second one; a link
         * podform cannot mark as its own would be someone else's: take it back */
        msg = link_msg(RTM_NEWLINK, 0, self, 0, 0);
        char alias[64];
        snprintf(alias, sizeof(alias), "podform:%s/%s", kind_title(x->kind), a->name);
        put_ok(nla_put_string(msg, IFLA_IFALIAS, alias));
        if (change(h, msg, "marking it as podform's (IFLA_IFALIAS)", a, err) < 0) {
                char *ignored = NULL;
                delete_link(h, self, a, &ignored);
                free(ignored);
                return -1;
        }
        link_spec s;
        pf_arena scratch = { 0 };
        decl_spec(h, x, &scratch, &s);
        const char *addrs = s.n_addrs ? join(&scratch, s.addrs, s.n_addrs) : NULL;
        const char *ports = s.n_ports ? join(&scratch, s.ports, s.n_ports) : NULL;
        int r = 0;
        if (addrs && (mask & M_ADDRS))
                r = sync_lists(h, self, "addresses", NULL, addrs, a, err);
        if (r == 0 && ports)
                r = sync_lists(h, self, "ports", NULL, ports, a, err);
        pf_arena_free(&scratch);
        /* a bridge takes its ports' MTU unless the MTU was set by a change, not at creation */
        if (r == 0 && (mask & M_MTU) && x->br && x->br->mtu) {
                msg = link_msg(RTM_NEWLINK, 0, self, 0, 0);
                put_common(msg, x, M_MTU);
                r = change(h, msg, "setting its MTU", a, err);
        }
        /* a passthru macvtap is created with its parent's MAC, whatever the request said (the
         * parent then takes the new one too, until the macvtap goes) */
        if (r == 0 && (mask & M_MAC) && x->mv && x->mac &&
            decl_mode(h, x->mv) == PF_MACVLAN_PASSTHRU) {
                msg = link_msg(RTM_NEWLINK, 0, self, 0, 0);
                put_common(msg, x, M_MAC);
                r = change(h, msg, "setting its MAC address", a, err);
        }
        return r;
}

static const pf_change *find_change(const pf_action *a, const char *key) {
        for (size_t i = 0; i < a->changes.n; i++)
                if (!strcmp(a->changes.v[i].key, key))
                        return &a->changes.v[i];
        return NULL;
}

/* The address dump again, into the observed links (their addresses only). */
static int reobserve_addrs(pf_nl_host *h, char **err, const pf_action *a) {
        char *why = NULL;
        if (observe_addrs(h, &why) < 0) {
                *err = pf_xasprintf("%s %s: %s", pf_rkind_name(a->kind), a->name, why);
                free(why);
                return -1;
        }
        return 0;
}

static int change_link(pf_nl_host *h, const decl *x, const pf_action *a, char **err) {
        const live_link *l = link_by_name(h, a->name);
        if (!l) {
                *err = pf_xasprintf("%s %s: the link disappeared since it was observed", pf_rkind_name(a->kind), a->name);
                return -1;
        }
        int ifindex = l->ifindex;
        for (size_t i = 0; i < a->changes.n; i++)
                if (a->changes.v[i].landing == PF_LAND_RECREATE) {        /* type, parent: see link_fields */
                        /* the kernel cannot change this in place: delete and create again */
                        if (delete_link(h, ifindex, a, err) < 0)
                                return -1;
                        return create_link(h, x, a, err);
                }
        unsigned mask = 0;
        static const struct { const char *key; unsigned bit; } simple[] = {
                { "mtu", M_MTU }, { "macAddress", M_MAC }, { "stp", M_STP }, { "forwardDelay", M_DELAY },
                { "mode", M_MODE }, { "state", M_STATE },
        };
        for (size_t i = 0; i < sizeof(simple) / sizeof(*simple); i++)
                if (find_change(a, simple[i].key))
                        mask |= simple[i].bit;
        if ((mask & M_STP) && x->br && !x->br->stp) {
                /* the kernel applies the delay before the STP state, whatever the order in the
                 * request: a delay below STP's range must wait until STP is off */
                struct nl_msg *msg = link_msg(RTM_NEWLINK, 0, ifindex, 0, 0);
                put_linkinfo(h, msg, x, M_STP);
                if (change(h, msg, "turning STP off", a, err) < 0)
                        return -1;
                mask &= ~M_STP;
        }
        if (mask) {
                bool up = decl_up(x);
                struct nl_msg *msg = link_msg(RTM_NEWLINK, 0, ifindex, (mask & M_STATE) && up ? IFF_UP : 0,
                                              (mask & M_STATE) ? IFF_UP : 0);
                put_common(msg, x, mask);
                if (mask & (M_STP | M_DELAY | M_MODE))
                        put_linkinfo(h, msg, x, mask);
                if (change(h, msg, "changing it in place", a, err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < a->changes.n; i++) {
                const pf_change *c = &a->changes.v[i];
                if (!strcmp(c->key, "ports") && sync_lists(h, ifindex, c->key, c->old_value, c->new_value, a, err) < 0)
                        return -1;
        }
        const pf_change *addrs = find_change(a, "addresses");
        if (!(mask & M_STATE))
                return addrs ? sync_lists(h, ifindex, "addresses", addrs->old_value, addrs->new_value, a, err) : 0;
        /* a link going down loses its IPv6 addresses (keep_addr_on_down is off by default):
         * compare with what it has now */
        if (!addrs && !(decl_mask(x, !owned(l)) & M_ADDRS))
                return 0;
        if (reobserve_addrs(h, err, a) < 0)
                return -1;
        link_spec want;
        pf_arena scratch = { 0 };
        decl_spec(h, x, &scratch, &want);
        l = link_by_name(h, a->name);
        const char *now = l && l->n_addrs ? join(&scratch, (const char **) l->addrs, l->n_addrs) : NULL;
        const char *target = want.n_addrs ? join(&scratch, want.addrs, want.n_addrs) : NULL;
        int r = sync_lists(h, ifindex, "addresses", now, target, a, err);
        pf_arena_free(&scratch);
        return r;
}

/* Deleting a bridge releases all its ports: refuse while it holds one podform did not enslave
 * (a container's veth, a tap someone added). The VMs deleted earlier in the plan have taken
 * their taps along by now, so this looks at the host as it is at this point. */
static int prune_link(pf_nl_host *h, const pf_action *a, char **err) {
        if (a->kind == PF_R_BRIDGE) {
                /* ports only: what follows reads addresses again where it needs them */
                char *why = NULL;
                if (observe_links(h, &why) < 0) {
                        *err = pf_xasprintf("%s %s: %s", pf_rkind_name(a->kind), a->name, why);
                        free(why);
                        return -1;
                }
        }
        const live_link *l = link_by_name(h, a->name);
        if (!l)
                return 0;       /* gone already */
        if (a->kind == PF_R_BRIDGE) {
                size_t len = 0;
                char foreign[512] = "";
                for (size_t i = 0; i < h->n_links; i++) {
                        const live_link *p = &h->links[i];
                        if (p->master == l->ifindex && !port_recorded(h, l->name, p->name) && len + strlen(p->name) + 3 < sizeof(foreign))
                                len += (size_t) snprintf(foreign + len, sizeof(foreign) - len, "%s%s", len ? ", " : "", p->name);
                }
                if (len) {
                        *err = pf_xasprintf("bridge %s: not deleted: it holds ports podform did not enslave (%s); release "
                                            "them or declare the bridge again", a->name, foreign);
                        return -1;
                }
        }
        return delete_link(h, l->ifindex, a, err);
}

static int apply_action(void *ctx, const pf_action *a, char **err) {
        pf_nl_host *h = ctx;
        if (a->op == PF_OP_DELETE)
                return prune_link(h, a, err);
        decl x;
        if (!find_decl(h, a->kind, a->name, &x)) {
                *err = pf_xasprintf("%s %s: no declaration (internal error)", pf_rkind_name(a->kind), a->name);
                return -1;
        }
        return a->op == PF_OP_CREATE ? create_link(h, &x, a, err) : change_link(h, &x, a, err);
}

/* ---- the host ---- */

pf_nl_host *pf_nl_open(const char *state_dir, bool read_only, char **err) {
        pf_nl_host *h = pf_xcalloc(1, sizeof(*h));
        h->lock_fd = -1;
        h->driver = (pf_driver) { "netlink", apply_action, h };
        int r;
        if (!(h->sk = nl_socket_alloc()))
                pf_oom();
        if ((r = nl_connect(h->sk, NETLINK_ROUTE)) < 0) {
                *err = pf_xasprintf("cannot open a netlink socket: %s", nl_geterror(r));
                pf_nl_close(h);
                return NULL;
        }
        /* the kernel's own words for a refusal ("mtu greater than device maximum") */
        int one = 1, fd = nl_socket_get_fd(h->sk);
        (void) setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
        nl_socket_modify_err_cb(h->sk, NL_CB_CUSTOM, on_error, h);
        /* a dump of a thousand links comes in many parts; let libnl size its buffer to each */
        nl_socket_enable_msg_peek(h->sk);
        if (state_dir && ports_load(h, state_dir, read_only, err) < 0) {
                pf_nl_close(h);
                return NULL;
        }
        return h;
}

void pf_nl_close(pf_nl_host *h) {
        if (!h)
                return;
        links_clear(h);
        free(h->links);
        for (size_t i = 0; i < h->n_ports; i++) {
                free(h->ports[i].bridge);
                free(h->ports[i].port);
        }
        free(h->ports);
        free(h->ports_path);
        if (h->lock_fd >= 0)
                close(h->lock_fd);
        if (h->sk)
                nl_socket_free(h->sk);
        free(h);
}

const pf_driver *pf_nl_driver(pf_nl_host *h) { return &h->driver; }
unsigned long pf_nl_mutations(const pf_nl_host *h) { return h->mutations; }
unsigned long pf_nl_round_trips(const pf_nl_host *h) { return h->round_trips; }
