/* rtnl.c: the netlink transport, with libnl-3's socket, message and attribute API.
 *
 * Observation is one RTM_GETLINK dump and one RTM_GETADDR dump, parsed here with nla_parse:
 * libnl-route 3.7's link cache does not read a bridge's IFLA_BR_* attributes (STP, forward
 * delay), so its cache would need a request per bridge. The kind-specific IFLA_INFO_DATA is
 * kept as it came, for the link kinds to read. */
#include "config.h"
#include "netlink/rtnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct pf_nl_host {
        struct nl_sock *sk;
        unsigned long mutations, round_trips;
        int last_errno;                 /* of the last request the kernel refused */
        char last_msg[256];             /* its extended ack message, "" when none */

        pf_nl_link *links;              /* sorted by name after an observation */
        size_t n_links, cap_links;
        pf_nl_link **by_index;          /* sorted by ifindex */

        pf_ports *ports;
};

static void link_free(pf_nl_link *l) {
        free(l->alias);
        free(l->info_data);
        for (size_t a = 0; a < l->n_addrs; a++)
                free(l->addrs[a]);
        free(l->addrs);
}

static void links_clear(pf_nl_host *h) {
        for (size_t i = 0; i < h->n_links; i++)
                link_free(&h->links[i]);
        h->n_links = 0;
        free(h->by_index);
        h->by_index = NULL;
}

static void parse_link(struct nlmsghdr *nlh, pf_nl_link *l) {
        struct ifinfomsg *ifi = nlmsg_data(nlh);
        struct nlattr *tb[IFLA_MAX + 1];
        *l = (pf_nl_link) { .ifindex = ifi->ifi_index, .flags = ifi->ifi_flags };
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
        if (info[IFLA_INFO_DATA]) {
                size_t len = (size_t) nla_total_size(nla_len(info[IFLA_INFO_DATA]));
                l->info_data = pf_xcalloc(1, len);
                memcpy(l->info_data, info[IFLA_INFO_DATA], (size_t) nla_attr_size(nla_len(info[IFLA_INFO_DATA])));
        }
}

bool pf_nl_info_data(const pf_nl_link *l, struct nlattr **tb, int max) {
        return l->info_data && nla_parse_nested(tb, max, l->info_data, NULL) >= 0;
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
        else
                link_free(&h->links[h->n_links]);
        return NL_OK;
}

static int cmp_link_name(const void *a, const void *b) {
        return strcmp(((const pf_nl_link *) a)->name, ((const pf_nl_link *) b)->name);
}

static int cmp_link_index(const void *a, const void *b) {
        int x = (*(pf_nl_link *const *) a)->ifindex, y = (*(pf_nl_link *const *) b)->ifindex;
        return (x > y) - (x < y);
}

size_t pf_nl_n_links(const pf_nl_host *h) { return h->n_links; }
const pf_nl_link *pf_nl_link_at(const pf_nl_host *h, size_t i) { return &h->links[i]; }

const pf_nl_link *pf_nl_link_by_name(const pf_nl_host *h, const char *name) {
        pf_nl_link key;
        snprintf(key.name, sizeof(key.name), "%s", name);
        return h->n_links ? bsearch(&key, h->links, h->n_links, sizeof(*h->links), cmp_link_name) : NULL;
}

const pf_nl_link *pf_nl_link_by_index(const pf_nl_host *h, int ifindex) {
        pf_nl_link key = { .ifindex = ifindex }, *k = &key;
        pf_nl_link **hit = h->n_links ? bsearch(&k, h->by_index, h->n_links, sizeof(*h->by_index), cmp_link_index) : NULL;
        return hit ? *hit : NULL;
}

const char *pf_nl_parent_name(const pf_nl_host *h, const pf_nl_link *l) {
        if (!l->parent)
                return NULL;
        const pf_nl_link *p = l->parent_elsewhere ? NULL : pf_nl_link_by_index(h, l->parent);
        return p ? p->name : PF_NL_PARENT_ELSEWHERE;
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
        pf_nl_link *l = (pf_nl_link *) pf_nl_link_by_index(h, (int) ifa->ifa_index);
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

int pf_nl_observe_addrs(pf_nl_host *h, char **err) {
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
int pf_nl_observe_links(pf_nl_host *h, char **err) {
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

int pf_nl_observe(pf_nl_host *h, char **err) {
        return pf_nl_observe_links(h, err) < 0 ? -1 : pf_nl_observe_addrs(h, err);
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

int pf_nl_change(pf_nl_host *h, struct nl_msg *msg, const char *subject, const char *what, char **err) {
        h->mutations++;
        h->round_trips++;
        h->last_errno = 0;
        int r = nl_send_sync(h->sk, msg);
        if (r < 0) {
                _cleanup_free_ char *why = nl_reason(h, r);
                *err = pf_xasprintf("%s: %s: %s", subject, what, why);
                return -1;
        }
        return 0;
}

struct nl_msg *pf_nl_link_msg(int type, int flags, int ifindex, unsigned ifi_flags, unsigned ifi_change) {
        struct nl_msg *msg = nlmsg_alloc_simple(type, flags);
        if (!msg)
                pf_oom();
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex, .ifi_flags = ifi_flags, .ifi_change = ifi_change };
        if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
                pf_oom();
        return msg;
}

void pf_nl_put_ok(int r) {
        if (r < 0)      /* messages grow on demand; only allocation fails */
                pf_oom();
}

static int on_get(struct nl_msg *msg, void *arg) {
        struct nlmsghdr *nlh = nlmsg_hdr(msg);
        if (nlh->nlmsg_type == RTM_NEWLINK)
                parse_link(nlh, arg);
        return NL_OK;
}

int pf_nl_get_link(pf_nl_host *h, const char *name, pf_nl_link *ret) {
        _cleanup_nl_msg_ struct nl_msg *msg = pf_nl_link_msg(RTM_GETLINK, 0, 0, 0, 0);
        pf_nl_put_ok(nla_put_string(msg, IFLA_IFNAME, name));
        h->round_trips++;
        h->last_errno = 0;
        *ret = (pf_nl_link) { 0 };
        nl_socket_modify_cb(h->sk, NL_CB_VALID, NL_CB_CUSTOM, on_get, ret);
        int r = nl_send_auto(h->sk, msg);
        if (r >= 0)
                r = nl_recvmsgs_default(h->sk);
        /* the link comes first, then the acknowledgement, in a datagram of its own */
        if (r >= 0)
                r = nl_wait_for_ack(h->sk);
        nl_socket_modify_cb(h->sk, NL_CB_VALID, NL_CB_DEFAULT, NULL, NULL);
        free(ret->alias);
        free(ret->info_data);
        ret->alias = NULL;
        ret->info_data = NULL;
        return r < 0 || !ret->ifindex ? -1 : 0;
}

pf_nl_host *pf_nl_open(const char *state_dir, bool read_only, char **err) {
        pf_nl_host *h = pf_xcalloc(1, sizeof(*h));
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
        if (!(h->ports = pf_ports_open(state_dir, read_only, err))) {
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
        pf_ports_close(h->ports);
        if (h->sk)
                nl_socket_free(h->sk);
        free(h);
}

pf_ports *pf_nl_ports(pf_nl_host *h) { return h->ports; }
int pf_nl_save(pf_nl_host *h, char **err) { return pf_ports_save(h->ports, err); }
unsigned long pf_nl_mutations(const pf_nl_host *h) { return h->mutations; }
unsigned long pf_nl_round_trips(const pf_nl_host *h) { return h->round_trips; }
