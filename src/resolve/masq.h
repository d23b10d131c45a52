/* masq.h: the masquerade binding where libvirt has no passt (podform.yaml(5), RESOLUTION):
 * the NICs on podform's NAT network and the address each one gets. Pure.
 *
 * The host's VMs share one libvirt network, PF_MASQ_NETWORK (forward open: podform's
 * nftables table does the NAT, kinds/nat.c), whose range is the Host's vmNetworkCIDR: its
 * first address is the gateway, and each NIC gets a fixed address by a DHCP host entry, so
 * that the port forwards have a fixed target. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "model/model.h"
#include "util/diag.h"

/* The libvirt network, and its bridge. */
#define PF_MASQ_NETWORK "podform-masq"

typedef struct pf_masq_nic {
        const pf_vm *vm;
        const pf_iface *iface;
        pf_mac mac;
        pf_ip ip;                       /* pf_masq_assign's */
} pf_masq_nic;

typedef struct pf_masq {
        pf_masq_nic *v;
        size_t n, cap;
} pf_masq;

void pf_masq_add(pf_masq *m, const pf_vm *vm, const pf_iface *i, const pf_mac *mac);
void pf_masq_free(pf_masq *m);
/* The gateway: the range's first address (the network's own address on its bridge). */
pf_ip pf_masq_gateway(const pf_cidr *range);
/* pf_masq_assign: sorts the NICs by VM and interface name and gives each its address in
 * `range`: the one `live` (may be NULL) says the MAC has now, when that is still free and in
 * the range, else one derived from the MAC (a hash of it, the next free one on a collision), so
 * the same MAC gets the same address run after run. A range too small for all of them is a
 * positioned error. */
/* `kept` (n_kept) are addresses no declared NIC may get: those of VMs that are gone from the
 * configuration but stay on the host (no --prune), so that no port forward reaches a new VM. */
void pf_masq_assign(pf_masq *m, const pf_cidr *range, bool (*live)(void *ud, const pf_mac *mac, pf_ip *ret),
                    void *ud, const pf_ip *kept, size_t n_kept, pf_diags *d);
