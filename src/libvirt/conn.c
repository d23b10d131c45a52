/* conn.c: the libvirt transport (conn.h). */
#include "config.h"
#include "libvirt/conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "util/cleanup.h"
#include "util/xalloc.h"
#include "util/xml.h"

/* A machine alias and what libvirt stores instead ("pc" -> "pc-i440fx-7.2"), per arch. */
typedef struct machine_alias { char *arch, *alias, *canonical; } machine_alias;
/* Whether the host offers kvm for an arch, asked once per arch. */
typedef struct arch_kvm { char *arch; bool kvm; } arch_kvm;

struct pf_lv_host {
        virConnectPtr conn;
        char *uri;
        pf_owner *owner;
        pf_lv_opts opts;
        unsigned long mutations;
        machine_alias *machines;
        size_t n_machines;
        bool machines_read;
        xmlDocPtr caps;                 /* the capabilities, read once; NULL until then or unreadable */
        bool caps_read;
        arch_kvm *kvm;
        size_t n_kvm;
        pf_lv_doc *docs;
        size_t n_docs, cap_docs;
        bool docs_sorted;
};

const char *pf_lv_reason(void) {
        const virError *e = virGetLastError();
        return e && e->message ? e->message : "unknown libvirt error";
}

char *pf_lv_error(const char *what, const char *name) { return pf_xasprintf("%s %s: %s", what, name, pf_lv_reason()); }

/* libvirt prints errors to stderr by default; podform reports them itself. */
static void quiet_errors(void *ud, virErrorPtr e) { (void) ud; (void) e; }

pf_lv_host *pf_lv_open(const char *uri, const char *state_dir, const pf_lv_opts *o, char **err) {
        virSetErrorFunc(NULL, quiet_errors);
        virConnectPtr conn = virConnectOpen(uri);
        if (!conn) {
                *err = pf_xasprintf("cannot connect to libvirt at %s: %s", uri, pf_lv_reason());
                return NULL;
        }
        /* the test driver's host lives and dies with this process, so does its record */
        bool ephemeral = strncmp(uri, "test:", 5) == 0;
        pf_owner *owner = pf_owner_open(ephemeral ? NULL : state_dir, uri, err);
        if (!owner) {
                virConnectClose(conn);
                return NULL;
        }
        pf_lv_host *h = pf_xcalloc(1, sizeof(*h));
        h->conn = conn;
        h->uri = pf_xstrdup(uri);
        h->owner = owner;
        h->opts = *o;
        return h;
}

void pf_lv_docs_clear(pf_lv_host *h) {
        for (size_t i = 0; i < h->n_docs; i++) {
                free(h->docs[i].name);
                xmlFreeDoc(h->docs[i].doc);
                xmlFreeDoc(h->docs[i].running);
                xmlFreeDoc(h->docs[i].desired);
        }
        free(h->docs);
        h->docs = NULL;
        h->n_docs = h->cap_docs = 0;
}

void pf_lv_close(pf_lv_host *h) {
        if (!h)
                return;
        pf_lv_docs_clear(h);
        for (size_t i = 0; i < h->n_machines; i++) {
                free(h->machines[i].arch);
                free(h->machines[i].alias);
                free(h->machines[i].canonical);
        }
        free(h->machines);
        for (size_t i = 0; i < h->n_kvm; i++)
                free(h->kvm[i].arch);
        free(h->kvm);
        xmlFreeDoc(h->caps);
        pf_owner_free(h->owner);
        virConnectClose(h->conn);
        free(h->uri);
        free(h);
}

const char *pf_lv_uri(const pf_lv_host *h) { return h->uri; }
virConnectPtr pf_lv_conn(const pf_lv_host *h) { return h->conn; }
const pf_lv_opts *pf_lv_options(const pf_lv_host *h) { return &h->opts; }
pf_owner *pf_lv_owner(pf_lv_host *h) { return h->owner; }
void pf_lv_count_mutation(pf_lv_host *h) { h->mutations++; }
unsigned long pf_lv_mutations(const pf_lv_host *h) { return h->mutations; }
int pf_lv_save(pf_lv_host *h, char **err) { return pf_owner_save(h->owner, err); }

int pf_lv_node(pf_lv_host *h, unsigned *cpus, uint64_t *memory_kib, char **err) {
        virNodeInfo info;
        if (virNodeGetInfo(h->conn, &info) < 0) {
                *err = pf_xasprintf("cannot read the host's CPUs and memory: %s", pf_lv_reason());
                return -1;
        }
        *cpus = info.cpus;
        *memory_kib = info.memory;
        return 0;
}

unsigned long pf_lv_version(pf_lv_host *h) {
        unsigned long v;
        return virConnectGetLibVersion(h->conn, &v) < 0 ? 0 : v;
}

/* ---- machine aliases, from the capabilities ---- */

static void add_machines(pf_lv_host *h, xmlNodePtr arch_node) {
        xmlChar *arch = xmlGetProp(arch_node, BAD_CAST "name");
        for (xmlNodePtr m = arch_node->children; m; m = m->next) {
                if (!pf_xml_is(m, "machine"))
                        continue;
                xmlChar *canon = xmlGetProp(m, BAD_CAST "canonical"), *alias = xmlNodeGetContent(m);
                if (canon && alias && arch) {
                        h->machines = pf_xreallocarray(h->machines, h->n_machines + 1, sizeof(*h->machines));
                        h->machines[h->n_machines++] = (machine_alias) {
                                pf_xstrdup((char *) arch), pf_xstrdup((char *) alias), pf_xstrdup((char *) canon) };
                }
                xmlFree(canon);
                xmlFree(alias);
        }
        xmlFree(arch);
}

/* The host's capabilities document, read once (NULL when libvirt gives none). */
static xmlDocPtr capabilities(pf_lv_host *h) {
        if (!h->caps_read) {
                h->caps_read = true;
                char *caps = virConnectGetCapabilities(h->conn);
                h->caps = caps ? pf_xml_parse(caps) : NULL;
                free(caps);
                virResetLastError();
        }
        return h->caps;
}

static void read_machines(pf_lv_host *h) {
        h->machines_read = true;
        xmlDocPtr doc = capabilities(h);
        if (!doc)
                return;
        for (xmlNodePtr g = xmlDocGetRootElement(doc)->children; g; g = g->next)
                for (xmlNodePtr a = pf_xml_is(g, "guest") ? g->children : NULL; a; a = a->next)
                        if (pf_xml_is(a, "arch"))
                                add_machines(h, a);
}

const char *pf_lv_canon_machine(void *ud, const char *arch, const char *machine) {
        pf_lv_host *h = ud;
        if (!h->machines_read)
                read_machines(h);
        for (size_t i = 0; i < h->n_machines; i++)
                if (!strcmp(h->machines[i].arch, arch) && !strcmp(h->machines[i].alias, machine))
                        return h->machines[i].canonical;
        return machine;
}

/* ---- the domain type the host offers ---- */

bool pf_lv_caps_offer(xmlDocPtr caps, const char *arch, const char *type) {
        xmlNodePtr root = caps ? xmlDocGetRootElement(caps) : NULL;
        for (xmlNodePtr g = root ? root->children : NULL; g; g = g->next)
                for (xmlNodePtr a = pf_xml_is(g, "guest") ? g->children : NULL; a; a = a->next) {
                        if (!pf_xml_is(a, "arch") || !pf_xml_prop_eq(a, "name", arch))
                                continue;
                        for (xmlNodePtr d = a->children; d; d = d->next)
                                if (pf_xml_is(d, "domain") && pf_xml_prop_eq(d, "type", type))
                                        return true;
                }
        return false;
}

bool pf_lv_domcaps_offer(xmlDocPtr domcaps, const char *type) {
        xmlNodePtr root = domcaps ? xmlDocGetRootElement(domcaps) : NULL;
        xmlNodePtr d = root && pf_xml_is(root, "domainCapabilities") ? pf_xml_child(root, "domain") : NULL;
        _cleanup_xml_char_ xmlChar *v = d ? xmlNodeGetContent(d) : NULL;
        return v && !xmlStrcmp(v, BAD_CAST type);
}

/* As MAAS asks: the domain capabilities for kvm (libvirt refuses them where KVM is unusable),
 * and where the driver has none, the capabilities. */
static bool host_offers_kvm(pf_lv_host *h, const char *arch, const char *machine) {
        char *x = virConnectGetDomainCapabilities(h->conn, NULL, arch, machine, "kvm", 0);
        if (x) {
                _cleanup_xml_doc_ xmlDocPtr doc = pf_xml_parse(x);
                free(x);
                return pf_lv_domcaps_offer(doc, "kvm");
        }
        const virError *e = virGetLastError();
        bool unsupported = e && e->code == VIR_ERR_NO_SUPPORT;
        virResetLastError();
        return unsupported && pf_lv_caps_offer(capabilities(h), arch, "kvm");
}

bool pf_lv_offers_kvm(pf_lv_host *h, const char *arch, const char *machine) {
        for (size_t i = 0; i < h->n_kvm; i++)
                if (!strcmp(h->kvm[i].arch, arch))
                        return h->kvm[i].kvm;
        bool kvm = host_offers_kvm(h, arch, machine);
        h->kvm = pf_xreallocarray(h->kvm, h->n_kvm + 1, sizeof(*h->kvm));
        h->kvm[h->n_kvm++] = (arch_kvm) { pf_xstrdup(arch), kvm };
        return kvm;
}

/* What guests the host runs, from the capabilities: "x86_64 (qemu, kvm), i686 (qemu)". */
char *pf_lv_guests(pf_lv_host *h) {
        xmlDocPtr doc = capabilities(h);
        pf_arena a = { 0 };
        const char *out = "";
        for (xmlNodePtr g = doc ? xmlDocGetRootElement(doc)->children : NULL; g; g = g->next)
                for (xmlNodePtr arch = pf_xml_is(g, "guest") ? g->children : NULL; arch; arch = arch->next) {
                        if (!pf_xml_is(arch, "arch"))
                                continue;
                        const char *types = "";
                        for (xmlNodePtr d = arch->children; d; d = d->next)
                                if (pf_xml_is(d, "domain"))
                                        types = pf_arena_printf(&a, "%s%s%s", types, *types ? ", " : "",
                                                                pf_xml_prop(&a, d, "type"));
                        const char *entry = pf_arena_printf(&a, "%s (%s)", pf_xml_prop(&a, arch, "name"), types);
                        if (!strstr(out, entry))
                                out = pf_arena_printf(&a, "%s%s%s", out, *out ? ", " : "", entry);
                }
        char *r = pf_xstrdup(*out ? out : "none listed");
        pf_arena_free(&a);
        return r;
}

/* ---- node devices ---- */

/* Whether node device `doc` is the NIC `ifname` on a PCI parent, and which. */
static bool device_pci(xmlDocPtr doc, const char *ifname, pf_pci *ret) {
        _cleanup_xml_char_ xmlChar *parent = NULL, *iface = NULL;
        for (xmlNodePtr c = xmlDocGetRootElement(doc)->children; c; c = c->next) {
                if (pf_xml_is(c, "parent") && !parent)
                        parent = xmlNodeGetContent(c);
                if (pf_xml_is(c, "capability"))
                        for (xmlNodePtr d = c->children; d; d = d->next)
                                if (pf_xml_is(d, "interface") && !iface)
                                        iface = xmlNodeGetContent(d);
        }
        unsigned dom, bus, slot, fn;
        if (!iface || !parent || strcmp((char *) iface, ifname) ||
            sscanf((char *) parent, "pci_%x_%x_%x_%x", &dom, &bus, &slot, &fn) != 4)
                return false;
        *ret = (pf_pci) { (uint16_t) dom, (uint8_t) bus, (uint8_t) slot, (uint8_t) fn };
        return true;
}

bool pf_lv_owned_network_ip(pf_lv_host *h, const char *name, char *buf, size_t size) {
        virNetworkPtr net = virNetworkLookupByName(h->conn, name);
        char uuid[VIR_UUID_STRING_BUFLEN];
        bool found = false;
        if (net && virNetworkGetUUIDString(net, uuid) == 0 && pf_owner_has(h->owner, PF_R_NETWORK, name, uuid)) {
                _cleanup_free_ char *xml = virNetworkGetXMLDesc(net, 0);
                _cleanup_xml_doc_ xmlDocPtr doc = xml ? pf_xml_parse(xml) : NULL;
                xmlNodePtr ip = doc ? pf_xml_child(xmlDocGetRootElement(doc), "ip") : NULL;
                pf_arena t = { 0 };
                const char *addr = pf_xml_prop(&t, ip, "address"), *prefix = pf_xml_prop(&t, ip, "prefix");
                found = *addr && *prefix && snprintf(buf, size, "%s/%s", addr, prefix) < (int) size;
                pf_arena_free(&t);
        }
        if (net)
                virNetworkFree(net);
        else
                virResetLastError();
        return found;
}

bool pf_lv_host_pci(pf_lv_host *h, const char *ifname, pf_pci *ret) {
        virNodeDevicePtr *devs = NULL;
        int n = virConnectListAllNodeDevices(h->conn, &devs, VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET);
        bool found = false;
        for (int i = 0; i < n; i++) {
                char *xml = found ? NULL : virNodeDeviceGetXMLDesc(devs[i], 0);
                _cleanup_xml_doc_ xmlDocPtr doc = xml ? pf_xml_parse(xml) : NULL;
                free(xml);
                if (doc)
                        found = device_pci(doc, ifname, ret);
                virNodeDeviceFree(devs[i]);
        }
        free(devs);
        virResetLastError();
        return found;
}

/* ---- documents ---- */

static int cmp_doc(const void *a, const void *b) {
        const pf_lv_doc *x = a, *y = b;
        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        return strcmp(x->name, y->name);
}

pf_lv_doc *pf_lv_doc_find(pf_lv_host *h, pf_rkind kind, const char *name) {
        if (!h->docs_sorted) {
                if (h->n_docs)
                        qsort(h->docs, h->n_docs, sizeof(*h->docs), cmp_doc);
                h->docs_sorted = true;
        }
        pf_lv_doc key = { .kind = kind, .name = (char *) name };
        return h->n_docs ? bsearch(&key, h->docs, h->n_docs, sizeof(*h->docs), cmp_doc) : NULL;
}

pf_lv_doc *pf_lv_doc_add(pf_lv_host *h, pf_rkind kind, const char *name) {
        if (h->n_docs == h->cap_docs)
                h->docs = pf_xreallocarray(h->docs, h->cap_docs = h->cap_docs ? 2 * h->cap_docs : 64, sizeof(*h->docs));
        h->docs_sorted = false;
        h->docs[h->n_docs] = (pf_lv_doc) { .kind = kind, .name = pf_xstrdup(name) };
        return &h->docs[h->n_docs++];
}

size_t pf_lv_n_docs(const pf_lv_host *h) { return h->n_docs; }
pf_lv_doc *pf_lv_doc_at(pf_lv_host *h, size_t i) { return &h->docs[i]; }
