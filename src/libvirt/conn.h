/* conn.h: the libvirt transport: one connection, every mutating call counted (PF_LV_MUTATE),
 * the capabilities and node devices read once, the documents observation read (kept until the
 * next observation, for the kinds that read them again), and podform's ownership record
 * (records/owner.h). With the netlink transport, the only code that talks to the host.
 *
 *   pf_lv_host *h = pf_lv_open(uri, state_dir, &opts, &err);
 *   the libvirt kinds (kinds/pool.c ...) observe and change through it
 *   pf_lv_save(h, &err); pf_lv_close(h);
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include <libvirt/libvirt.h>
#include <libxml/tree.h>

#include "engine/obj.h"
#include "records/owner.h"

typedef struct pf_lv_host pf_lv_host;

typedef struct pf_lv_opts {
        unsigned shutdown_timeout;      /* seconds between ACPI shutdown and destroy */
} pf_lv_opts;

/* pf_lv_open: `state_dir` holds the ownership record (NULL: memory only). */
pf_lv_host *pf_lv_open(const char *uri, const char *state_dir, const pf_lv_opts *o, char **err);
void pf_lv_close(pf_lv_host *h);
const char *pf_lv_uri(const pf_lv_host *h);
/* The connection itself (tests check the host through the libvirt API: the test driver's
 * host is private to its connection). */
virConnectPtr pf_lv_conn(const pf_lv_host *h);
const pf_lv_opts *pf_lv_options(const pf_lv_host *h);
pf_owner *pf_lv_owner(pf_lv_host *h);
/* Records ownership changes made by apply. */
int pf_lv_save(pf_lv_host *h, char **err);

/* Apply's workers (engine/apply.h), each with a connection of its own: pf_lv_open_workers
 * opens them once (the host's own connection is worker 0) and returns how many there are, at
 * most n; fewer, with *err set, when libvirt refuses another connection. pf_lv_worker: worker
 * w, which shares everything but the connection with the host (its ownership record,
 * documents and count of mutations; the record is safe to change from several workers at
 * once). Closed with the host. */
size_t pf_lv_open_workers(pf_lv_host *h, size_t n, char **err);
pf_lv_host *pf_lv_worker(pf_lv_host *h, size_t w);

/* pf_lv_pool: the storage pool of that name on this connection (a worker's: its own), looked
 * up once until pf_lv_forget_pools (apply's volumes need it, one RPC each otherwise); NULL
 * with libvirt's error set when there is none. The host keeps the reference. Forget them when
 * a pool may have been recreated since (at the start of an apply). */
virStoragePoolPtr pf_lv_pool(pf_lv_host *h, const char *name);
void pf_lv_forget_pools(pf_lv_host *h);

/* Every call that changes the host goes through here, so it can be counted. */
#define PF_LV_MUTATE(h, call) (pf_lv_count_mutation(h), (call))
void pf_lv_count_mutation(pf_lv_host *h);
/* Mutating libvirt calls made through this host so far (a second apply must make none). */
unsigned long pf_lv_mutations(const pf_lv_host *h);

/* libvirt's last error as a sentence tail, and "WHAT NAME: reason" (malloc'd). */
const char *pf_lv_reason(void);
char *pf_lv_error(const char *what, const char *name);

/* The host's size, for the capacity check. */
int pf_lv_node(pf_lv_host *h, unsigned *cpus, uint64_t *memory_kib, char **err);
unsigned long pf_lv_version(pf_lv_host *h);
/* pf_lv_guests: the guests the host runs, by arch and domain type, as text (malloc'd). */
char *pf_lv_guests(pf_lv_host *h);
/* pf_lv_canon_machine: what libvirt stores for a machine alias ("pc" -> "pc-i440fx-7.2"), from
 * the capabilities, read once (`ud` is the pf_lv_host). */
const char *pf_lv_canon_machine(void *ud, const char *arch, const char *machine);
/* pf_lv_offers_kvm: whether the host runs `arch` guests on kvm: libvirt's domain capabilities
 * for kvm (for `machine`, which may be NULL), else, where the driver has none (the test
 * driver), its capabilities; asked once per arch. pf_lv_domcaps_offer and pf_lv_caps_offer
 * read those documents (a NULL one offers nothing). */
bool pf_lv_offers_kvm(pf_lv_host *h, const char *arch, const char *machine);
bool pf_lv_domcaps_offer(xmlDocPtr domcaps, const char *type);
bool pf_lv_caps_offer(xmlDocPtr caps, const char *arch, const char *type);
/* pf_lv_owned_network_ip: "ADDRESS/PREFIX" of the first <ip> of network `name`, when it exists
 * and the ownership record names it podform's; false otherwise. */
bool pf_lv_owned_network_ip(pf_lv_host *h, const char *name, char *buf, size_t size);
/* pf_lv_host_pci: the PCI device behind a host network interface, from the node devices. */
bool pf_lv_host_pci(pf_lv_host *h, const char *ifname, pf_pci *ret);

/* Names of the objects a filtered list call gives (VIR_CONNECT_LIST_*_ACTIVE, _AUTOSTART),
 * sorted: run state and autostart of every object from one call each, not two calls per
 * object. pf_lv_list_names: -1 with *err when libvirt refuses the list. */
typedef struct pf_lv_names {
        char **v;
        size_t n;
} pf_lv_names;
typedef enum pf_lv_list { PF_LV_LIST_DOMAINS, PF_LV_LIST_NETWORKS, PF_LV_LIST_POOLS } pf_lv_list;
int pf_lv_list_names(pf_lv_host *h, pf_lv_list what, unsigned flags, pf_lv_names *ret, char **err);
bool pf_lv_names_has(const pf_lv_names *s, const char *name);
void pf_lv_names_free(pf_lv_names *s);

/* The documents observation read: a live object's persistent definition (and, for a running
 * domain, the one it runs with, which may still use what the persistent one dropped), and the
 * desired definitions rendered in the same pass; a kind frees them as soon as it has taken what
 * it needs from them (`facts`, in pf_lv_docs_arena), unless pf_lv_keep_docs asked for them (show
 * reads the whole definitions). Freed by pf_lv_docs_clear, at the next observation. */
typedef struct pf_lv_doc {
        pf_rkind kind;
        char *name;
        xmlDocPtr doc;                  /* live: persistent */
        bool autostart;
        xmlDocPtr running;              /* live, running domains: the running definition */
        xmlDocPtr desired;              /* rendered in this pass, until the domain kind's finish */
        void *facts;                    /* the kind's own summary of the documents */
} pf_lv_doc;

void pf_lv_docs_clear(pf_lv_host *h);
/* Memory for the entries' facts, freed with them. */
pf_arena *pf_lv_docs_arena(pf_lv_host *h);
/* pf_lv_keep_docs: whether the next observations keep every document whole. */
void pf_lv_keep_docs(pf_lv_host *h, bool keep);
bool pf_lv_keeps_docs(const pf_lv_host *h);
/* pf_lv_doc_add: a new entry (it owns the documents set in it; the pointer is good until the
 * next add); pf_lv_doc_find: the entry of that object, or NULL (sorts once after adds). */
pf_lv_doc *pf_lv_doc_add(pf_lv_host *h, pf_rkind kind, const char *name);
pf_lv_doc *pf_lv_doc_find(pf_lv_host *h, pf_rkind kind, const char *name);
size_t pf_lv_n_docs(const pf_lv_host *h);
pf_lv_doc *pf_lv_doc_at(pf_lv_host *h, size_t i);
