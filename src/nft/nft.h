/* nft.h: the nftables transport. podform owns one table, `ip podform`, entirely: it lists that
 * table and changes rules in it, and touches nothing else of the host's ruleset. Through
 * libnftables (the nft project's library) and its JSON output, parsed with jansson; the only
 * code that speaks nftables. With conn.c and rtnl.c, the only code that touches the host.
 *
 *   pf_nft *n = pf_nft_open(&err);
 *   pf_nft_observe(n, &err);            the table's rules, parsed (pf_nft_rule)
 *   pf_nft_batch b; pf_nft_batch_init(&b); pf_nft_add_dnat(&b, ...); pf_nft_run(n, &b, &err);
 *   pf_nft_close(n);
 *
 * Every rule podform writes carries a comment "VM/INTERFACE": whose it is. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "model/model.h"

#define PF_NFT_TABLE "podform"          /* family ip */
/* The host's own connections to loopback stay the host's: DNAT would send them out with a
 * loopback source, which the kernel drops, so `ssh localhost` would break on a declared 22. */
#define PF_NFT_LOOPBACK "127.0.0.0/8"

typedef struct pf_nft pf_nft;

/* One rule of the table as read back, in the terms podform writes them in: what it matches,
 * what it does. `other` is set when the rule holds anything else (someone edited it). */
typedef struct pf_nft_rule {
        char *chain;
        uint64_t handle;
        char *comment;                  /* NULL: none */
        char *saddr;                    /* ip saddr == A */
        char *daddr_except;             /* ip daddr != { ... }: the elements, comma-separated */
        bool fib_local;                 /* fib daddr type local */
        char *proto;                    /* "tcp"/"udp" of a dport match */
        unsigned dport;
        char *dnat_addr;                /* dnat to A:P */
        unsigned dnat_port;
        bool masquerade;
        bool other;
} pf_nft_rule;

/* pf_nft_open: a libnftables context (no kernel call yet). */
pf_nft *pf_nft_open(char **err);
void pf_nft_close(pf_nft *n);

/* pf_nft_observe: reads the table (absent: no rules). Where the kernel refuses to list it (no
 * CAP_NET_ADMIN), the rules are none and pf_nft_unreadable says why; other failures: -1. */
int pf_nft_observe(pf_nft *n, char **err);
const char *pf_nft_unreadable(const pf_nft *n);
bool pf_nft_table_exists(const pf_nft *n);
size_t pf_nft_n_rules(const pf_nft *n);
const pf_nft_rule *pf_nft_rule_at(const pf_nft *n, size_t i);
/* Whether the rule was deleted by a batch run since the last observation. */
bool pf_nft_rule_gone(const pf_nft *n, size_t i);

/* A batch of commands, run as one transaction: all of it lands, or none. Values are checked
 * as they are added (names, addresses); a bad one makes pf_nft_run fail naming it. */
typedef struct pf_nft_batch {
        char *text;
        size_t len, cap;
        char *bad;                      /* the first value refused, as a sentence */
        size_t *deleted;                /* rules (pf_nft_rule_at indexes) the batch deletes */
        size_t n_deleted;
} pf_nft_batch;

void pf_nft_batch_init(pf_nft_batch *b);
void pf_nft_batch_free(pf_nft_batch *b);
/* The table and its base chains (nat prerouting, output, postrouting), where missing. */
void pf_nft_add_base(pf_nft_batch *b);
/* Outgoing traffic from `saddr` to anywhere but `range` (and multicast, broadcast) leaves with
 * the host's address, as libvirt's own NAT does. */
void pf_nft_add_masquerade(pf_nft_batch *b, const char *comment, const pf_ip *saddr, const pf_cidr *range);
/* Traffic to one of the host's own addresses on proto/port, arriving (chain "prerouting") or
 * sent by the host itself (chain "output"), goes to addr:port. */
void pf_nft_add_dnat(pf_nft_batch *b, const char *chain, const char *comment, pf_protocol proto, unsigned port,
                     const pf_ip *addr);
/* Deletes observed rule i (pf_nft_rule_at). */
void pf_nft_delete_rule(pf_nft_batch *b, const pf_nft *n, size_t i);
void pf_nft_delete_table(pf_nft_batch *b);
/* pf_nft_run: the batch as one transaction; -1 with *err (nft's own message) when refused. */
int pf_nft_run(pf_nft *n, pf_nft_batch *b, char **err);
/* Transactions run so far (a second apply must run none). */
unsigned long pf_nft_mutations(const pf_nft *n);
