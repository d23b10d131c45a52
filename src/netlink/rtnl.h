/* rtnl.h: the netlink transport: one NETLINK_ROUTE socket, the dumps that observe the host's
 * links, and change(), the one door every change goes through. It knows no resource kind: the
 * link kinds (kinds/link.h) read what it observed and build the messages it sends. With the
 * libvirt connection, the only code that talks to the host; it never shells out.
 *
 *   pf_nl_host *h = pf_nl_open(state_dir, read_only, &err);
 *   pf_nl_observe(h, &err)            one link dump and one address dump
 *   pf_nl_link_by_name(h, "br0")...   what they found
 *   pf_nl_change(h, msg, ...)         a change, counted
 *   pf_nl_close(h);
 *
 * The record of the ports podform enslaved (records/ports.h) is opened with the socket, since
 * both belong to the caller's network namespace. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "records/ports.h"

typedef struct pf_nl_host pf_nl_host;

/* A link as the kernel reported it. */
typedef struct pf_nl_link {
        int ifindex, master, parent;    /* parent: IFLA_LINK, 0 when none */
        bool parent_elsewhere;          /* the parent is in another network namespace */
        char name[IFNAMSIZ];
        char kind[32];                  /* IFLA_INFO_KIND; "" for a NIC without one */
        char *alias;
        unsigned mtu, flags;
        char mac[18];
        struct nlattr *info_data;       /* a copy of IFLA_INFO_DATA, for the link's kind to read */
        char **addrs;                   /* "ADDR/PREFIX", global scope only */
        size_t n_addrs;
} pf_nl_link;

/* pf_nl_open: a socket in the caller's network namespace, and the record of enslaved ports
 * there (records/ports.h: `state_dir` NULL keeps it in memory; `read_only` for a plan). */
pf_nl_host *pf_nl_open(const char *state_dir, bool read_only, char **err);
void pf_nl_close(pf_nl_host *h);
pf_ports *pf_nl_ports(pf_nl_host *h);
/* Records the ports apply enslaved or released. */
int pf_nl_save(pf_nl_host *h, char **err);

/* pf_nl_observe: the link dump, then the address dump (each read again when the kernel marks
 * it interrupted). pf_nl_observe_links / _addrs redo one of them (apply, after a change). */
int pf_nl_observe(pf_nl_host *h, char **err);
int pf_nl_observe_links(pf_nl_host *h, char **err);
int pf_nl_observe_addrs(pf_nl_host *h, char **err);

/* What the last observation found: links sorted by name. */
size_t pf_nl_n_links(const pf_nl_host *h);
const pf_nl_link *pf_nl_link_at(const pf_nl_host *h, size_t i);
const pf_nl_link *pf_nl_link_by_name(const pf_nl_host *h, const char *name);
const pf_nl_link *pf_nl_link_by_index(const pf_nl_host *h, int ifindex);
/* What a parent in another network namespace is called (IFLA_LINK_NETNSID: its ifindex is
 * that namespace's): no link of this one has such a name. */
#define PF_NL_PARENT_ELSEWHERE "(another network namespace)"
/* pf_nl_parent_name: the name of l's parent link, PF_NL_PARENT_ELSEWHERE, or NULL. */
const char *pf_nl_parent_name(const pf_nl_host *h, const pf_nl_link *l);
/* pf_nl_info_data: l's IFLA_INFO_DATA parsed into tb[0..max], false when it has none. */
bool pf_nl_info_data(const pf_nl_link *l, struct nlattr **tb, int max);

/* pf_nl_get_link: the link of that name as the kernel has it now (apply creates links
 * observation never saw); -1 when there is none. Its alias and info data are not kept. */
int pf_nl_get_link(pf_nl_host *h, const char *name, pf_nl_link *ret);

/* Message builders; allocation failure aborts (pf_oom), as everywhere. */
struct nl_msg *pf_nl_link_msg(int type, int flags, int ifindex, unsigned ifi_flags, unsigned ifi_change);
void pf_nl_put_ok(int r);

/* pf_nl_change: sends one request and waits for its acknowledgement; every change goes through
 * here, so it is counted. Takes msg. A refusal sets *err to "SUBJECT: WHAT: the kernel's reason"
 * (errno and its extended-ack message). */
int pf_nl_change(pf_nl_host *h, struct nl_msg *msg, const char *subject, const char *what, char **err);

/* Netlink messages that changed the host so far (a second apply must send none), and requests
 * sent of any kind, dumps included (each is one round trip). */
unsigned long pf_nl_mutations(const pf_nl_host *h);
unsigned long pf_nl_round_trips(const pf_nl_host *h);
