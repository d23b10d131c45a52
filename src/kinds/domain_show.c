/* domain_show.c: a live domain as a VirtualMachine document (podform show). It reads the
 * persistent definition, the one a restart boots, and writes what podform would render back to
 * the same fields (libvirt/fields.c): explicit MACs, explicit backends instead of the pod rules,
 * disks as the volumes they are. What the format cannot say stays on the domain (the merge
 * keeps it) and is named in a comment. */
#include "config.h"
#include "kinds/domain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/values.h"
#include "libvirt/conn.h"
#include "libvirt/fields.h"
#include "libvirt/render.h"
#include "model/names.h"
#include "resolve/masq.h"
#include "util/cleanup.h"
#include "util/xml.h"

typedef struct vm_show {
        pf_arena *t;
        const pf_kind_ctx *k;
        const pf_objset *have;
        const char *vm;
        xmlNodePtr root, devices, record;
        unsigned vcpus;
        pf_yaml_out *y;
} vm_show;

static const char *prop(vm_show *s, xmlNodePtr n, const char *name) { return pf_xml_prop(s->t, n, name); }

static const char *text(vm_show *s, xmlNodePtr n) {
        xmlChar *c = n ? xmlNodeGetContent(n) : NULL;
        const char *r = pf_arena_strdup(s->t, c ? (const char *) c : "");
        xmlFree(c);
        return r;
}

/* A byte count in the largest binary unit that divides it ("2Gi", "1536Mi"), else in decimal
 * units, exactly ("1048.064k"): a size rounded up would grow the volume when applied. */
static const char *quantity(pf_arena *t, unsigned long long bytes) {
        static const char *const units[] = { "Ti", "Gi", "Mi", "Ki" };
        for (size_t i = 0; i < 4; i++) {
                unsigned long long unit = 1ULL << (10 * (4 - i));
                if (bytes && bytes % unit == 0)
                        return pf_arena_printf(t, "%llu%s", bytes / unit, units[i]);
        }
        if (!bytes)
                return "0Ki";
        return pf_arena_printf(t, "%llu.%03lluk", bytes / 1000, bytes % 1000);
}

/* ---- what is said, not written ---- */

static bool in_list(const char *name, const char *const *list) {
        for (; *list; list++)
                if (!strcmp(name, *list))
                        return true;
        return false;
}

/* The attributes of n not in `known`, as "a='1' b='2'", or "". */
static const char *other_attrs(vm_show *s, xmlNodePtr n, const char *const *known) {
        const char *out = "";
        for (xmlAttrPtr a = n ? n->properties : NULL; a; a = a->next)
                if (!in_list((const char *) a->name, known))
                        out = pf_arena_printf(s->t, "%s%s%s='%s'", out, *out ? " " : "", a->name, prop(s, n, (const char *) a->name));
        return out;
}

/* The child elements of `parent` that are not in `known`, once each: "<graphics>, <video>", or "". */
static const char *other_elements(vm_show *s, xmlNodePtr parent, const char *const *known) {
        const char *others = "";
        for (xmlNodePtr d = parent ? parent->children : NULL; d; d = d->next) {
                const char *tag = pf_arena_printf(s->t, "<%s>", d->name);
                if (d->type == XML_ELEMENT_NODE && !in_list((const char *) d->name, known) && !strstr(others, tag))
                        others = pf_arena_printf(s->t, "%s%s%s", others, *others ? ", " : "", tag);
        }
        return others;
}

/* A part of a device podform writes, with attributes it does not: the merge replaces the part,
 * so they go at podform's next change of the definition. */
static void say_dropped_attrs(vm_show *s, xmlNodePtr n, const char *const *known) {
        const char *other = n ? other_attrs(s, n, known) : "";
        if (*other)
                pf_yaml_comment(s->y, "<%s %s>: podform's format has no key for it, and podform's next change to this "
                                "VM's definition drops it", n->name, other);
}

/* What of a device podform does not render stays when it replaces the device (merge.c): said. */
static void say_kept_parts(vm_show *s, xmlNodePtr dev, const char *const *managed) {
        static const char *const driver_set[] = { "name", "type", "queues", NULL };
        const char *parts = other_elements(s, dev, managed);
        const char *drv = other_attrs(s, pf_xml_child(dev, "driver"), driver_set);
        if (*parts || *drv)
                pf_yaml_comment(s->y, "kept as %s: %s%s%s%s%s", *parts && *drv ? "they are" : "it is", parts,
                                *parts && *drv ? ", " : "", *drv ? "<driver " : "", drv, *drv ? ">" : "");
}

/* ---- the machine ---- */

static void show_cpu(vm_show *s) {
        xmlNodePtr topo = pf_xml_child(pf_xml_child(s->root, "cpu"), "topology");
        pf_yaml_map(s->y, "cpu");
        if (!topo) {
                pf_yaml_scalar(s->y, "cores", PF_YAML_NUM, pf_arena_printf(s->t, "%u", s->vcpus));
        } else {
                static const char *const keys[] = { "sockets", "cores", "threads" };
                for (size_t i = 0; i < 3; i++) {
                        const char *v = prop(s, topo, keys[i]);
                        pf_yaml_scalar(s->y, keys[i], PF_YAML_NUM, *v ? v : "1");
                }
                const char *dies = prop(s, topo, "dies");
                if (*dies && strcmp(dies, "1"))
                        pf_yaml_comment(s->y, "<topology dies='%s'> is kept as it is: podform's format has no key for it", dies);
        }
        pf_yaml_end(s->y);
}

static void show_boot(vm_show *s, xmlNodePtr os) {
        size_t n = 0;
        for (xmlNodePtr c = os ? os->children : NULL; c; c = c->next)
                n += pf_xml_is(c, "boot");
        const char **devs = pf_arena_array(s->t, n + 1, sizeof(*devs));
        n = 0;
        for (xmlNodePtr c = os ? os->children : NULL; c; c = c->next)
                if (pf_xml_is(c, "boot"))
                        devs[n++] = prop(s, c, "dev");
        /* none: per-device boot orders (which exclude `boot`), or none at all: podform writes none */
        bool device_boot = false;
        for (xmlNodePtr d = s->devices ? s->devices->children : NULL; d && !device_boot; d = d->next)
                device_boot = pf_xml_child(d, "boot") != NULL;
        if (!device_boot || n)
                pf_yaml_list(s->y, "boot", PF_YAML_STR, devs, n);
}

static void show_machine(vm_show *s) {
        xmlNodePtr os = pf_xml_child(s->root, "os"), ostype = pf_xml_child(os, "type");
        pf_yaml_scalar(s->y, "type", PF_YAML_STR, prop(s, s->root, "type"));
        const char *arch = prop(s, ostype, "arch"), *machine = prop(s, ostype, "machine");
        pf_yaml_scalar(s->y, "arch", PF_YAML_STR, arch);
        if (*machine)
                pf_yaml_scalar(s->y, "machine", PF_YAML_STR, pf_lv_canon_machine(s->k->lv, arch, machine));
        show_cpu(s);
        xmlNodePtr mem = pf_xml_child(s->root, "memory");
        const char *unit = prop(s, mem, "unit");
        unsigned long long kib = strtoull(text(s, mem), NULL, 10) * pf_lv_unit_scale(*unit ? unit : "KiB") / 1024;
        pf_yaml_scalar(s->y, "memory", PF_YAML_STR, quantity(s->t, kib * 1024));
        show_boot(s, os);
}

/* ---- disks ---- */

/* The disk name of volume `vol` in `pool`: the record's, else what follows "VM-" (podform names
 * a disk's volume VM-DISK), else NULL: podform has no name that renders this volume. */
static const char *disk_name(vm_show *s, const char *pool, const char *vol) {
        for (xmlNodePtr c = s->record ? s->record->children : NULL; c; c = c->next)
                if (pf_xml_is(c, "disk") && !strcmp(prop(s, c, "pool"), pool) && !strcmp(prop(s, c, "volume"), vol))
                        return prop(s, c, "name");
        size_t n = strlen(s->vm);
        if (strncmp(vol, s->vm, n) || vol[n] != '-' || pf_check_name(vol + n + 1, strlen(vol + n + 1)))
                return NULL;
        return vol + n + 1;
}

static bool podform_disk(vm_show *s, xmlNodePtr d) {
        return !strcmp(prop(s, d, "type"), "volume") && !strcmp(prop(s, d, "device"), "disk");
}

static bool taken_in(void *doc, const char *vm, const char *dev) { return pf_lv_disk_dev_taken(doc, vm, dev); }

/* The dev podform gives the n-th shown disk of its bus (render_domain.c names them alike): a
 * guest that saw another name sees this one after the next restart. */
static void say_dev(vm_show *s, const char *bus, const char *dev, pf_disk_namer *namer) {
        int b = pf_enum_lookup(&pf_disk_bus_enum, bus);
        char want[32];
        pf_disk_next_name(namer, b < 0 ? PF_BUS_VIRTIO : (pf_disk_bus) b, s->vm, taken_in, s->root->doc, want, sizeof(want));
        if (strcmp(want, dev))
                pf_yaml_comment(s->y, "libvirt calls it %s; podform numbers a bus's disks in order and calls it %s", dev, want);
}

static void show_disk(vm_show *s, xmlNodePtr d, const char *name, pf_disk_namer *namer) {
        xmlNodePtr src = pf_xml_child(d, "source"), target = pf_xml_child(d, "target");
        const char *pool = prop(s, src, "pool"), *vol = prop(s, src, "volume");
        const pf_obj *v = pf_objset_find(s->have, PF_R_VOLUME, pf_arena_printf(s->t, "%s/%s", pool, vol));
        const pf_field *format = v ? pf_obj_field(v, "format") : NULL;
        const char *driver = prop(s, pf_xml_child(d, "driver"), "type"), *bus = prop(s, target, "bus");
        pf_yaml_item(s->y);
        pf_yaml_scalar(s->y, "name", PF_YAML_STR, name);
        if (v)
                pf_yaml_scalar(s->y, "size", PF_YAML_STR, quantity(s->t, v->size));
        else
                pf_yaml_comment(s->y, "volume %s/%s is not there (its pool inactive?): applied, podform creates it "
                                "once this says its size", pool, vol);
        pf_yaml_scalar(s->y, "pool", PF_YAML_STR, pool);
        pf_yaml_scalar(s->y, "format", PF_YAML_STR, *driver ? driver : format ? format->value : "raw");
        pf_yaml_scalar(s->y, "bus", PF_YAML_STR, *bus ? bus : "virtio");
        const char *boot = prop(s, pf_xml_child(d, "boot"), "order");
        if (*boot)
                pf_yaml_scalar(s->y, "bootOrder", PF_YAML_NUM, boot);
        say_dev(s, *bus ? bus : "virtio", prop(s, target, "dev"), namer);
        static const char *const managed[] = { "driver", "source", "target", "boot", "alias", "address", NULL };
        static const char *const source_set[] = { "pool", "volume", NULL }, *const target_set[] = { "dev", "bus", NULL };
        say_kept_parts(s, d, managed);
        say_dropped_attrs(s, src, source_set);
        say_dropped_attrs(s, target, target_set);
        pf_yaml_end(s->y);
}

/* Disks podform renders (volumes in a pool) as disks:, the others (files, CD-ROMs, block
 * devices) as comments: they stay on the domain as they are. */
static void show_disks(vm_show *s) {
        pf_disk_namer namer = { 0 };
        size_t n = 0;
        for (xmlNodePtr d = s->devices ? s->devices->children : NULL; d; d = d->next) {
                if (!pf_xml_is(d, "disk"))
                        continue;
                xmlNodePtr src = pf_xml_child(d, "source");
                const char *dev = prop(s, pf_xml_child(d, "target"), "dev");
                const char *name = podform_disk(s, d) ? disk_name(s, prop(s, src, "pool"), prop(s, src, "volume")) : NULL;
                if (!name) {
                        const char *where = *prop(s, src, "file") ? prop(s, src, "file") : *prop(s, src, "dev") ? prop(s, src, "dev")
                                            : *prop(s, src, "volume") ? pf_arena_printf(s->t, "%s/%s", prop(s, src, "pool"), prop(s, src, "volume"))
                                                                      : "no source";
                        pf_yaml_comment(s->y, "<disk type='%s' device='%s'> %s (%s) is kept as it is: podform's disks are "
                                        "volumes named %s-DISK in a pool", prop(s, d, "type"), prop(s, d, "device"), dev,
                                        where, s->vm);
                        continue;
                }
                if (!n++)
                        pf_yaml_seq(s->y, "disks");
                show_disk(s, d, name, &namer);
        }
        if (n)
                pf_yaml_end(s->y);
}

/* ---- interfaces and their networks ---- */

/* One NIC as an interface (frontend) and its network (backend) of the same name. */
typedef struct shown_nic {
        xmlNodePtr e;
        const char *name, *binding, *mode;     /* binding: bridge, macvtap, slirp, masquerade, sriov */
        const char *backend, *host_key, *target; /* network: NAME; host: {interface|pci: T}; macvtap: T; pod */
        const char *why_not;                    /* set: the format cannot say this NIC */
        bool tap;                               /* multiqueue applies (fields.c: network, bridge, direct, ethernet) */
        bool nat;                               /* masquerade on podform's NAT network: ports are the nat kind's */
} shown_nic;

/* The name the record gives the NIC of `mac`, else NULL. */
static const char *recorded_nic(vm_show *s, const char *mac) {
        for (xmlNodePtr c = s->record ? s->record->children : NULL; c; c = c->next)
                if (pf_xml_is(c, "interface") && pf_xml_prop_eq(c, "mac", mac) && *prop(s, c, "name"))
                        return prop(s, c, "name");
        return NULL;
}

static void place_nic(vm_show *s, shown_nic *n) {
        const char *type = prop(s, n->e, "type");
        xmlNodePtr src = pf_xml_child(n->e, "source");
        n->binding = "bridge";
        n->tap = true;
        const pf_obj *masq = pf_objset_find(s->have, PF_R_NETWORK, PF_MASQ_NETWORK);
        if (pf_xml_prop_eq(src, "network", PF_MASQ_NETWORK) && masq && masq->owned) {
                n->binding = "masquerade", n->backend = "pod", n->nat = true;
        } else if (*prop(s, src, "network")) {
                n->backend = "network", n->target = prop(s, src, "network");
        } else if (!strcmp(type, "bridge")) {
                n->backend = "host", n->host_key = "interface", n->target = prop(s, src, "bridge");
        } else if (!strcmp(type, "direct")) {
                const char *mode = prop(s, src, "mode");
                n->binding = "macvtap", n->backend = "host", n->host_key = "interface", n->target = prop(s, src, "dev");
                n->mode = !*mode ? "vepa" : !strcmp(mode, "passthrough") ? "passthru" : mode;
                if (pf_enum_lookup(&pf_macvlan_mode_enum, n->mode) < 0)
                        n->why_not = pf_arena_printf(s->t, "its macvtap mode '%s' is none podform has", mode);
        } else if (!strcmp(type, "ethernet") && pf_xml_prop_eq(pf_xml_child(n->e, "target"), "managed", "no")) {
                n->binding = "macvtap", n->backend = "macvtap", n->target = prop(s, pf_xml_child(n->e, "target"), "dev");
        } else if (!strcmp(type, "user")) {
                bool passt = pf_xml_prop_eq(pf_xml_child(n->e, "backend"), "type", "passt");
                n->binding = passt ? "masquerade" : "slirp", n->backend = "pod", n->tap = false;
        } else if (!strcmp(type, "hostdev")) {
                n->binding = "sriov", n->backend = "host", n->host_key = "pci", n->tap = false;
                n->target = pf_lv_pci_text(s->t, pf_xml_child(src, "address"));
        } else {
                n->why_not = pf_arena_printf(s->t, "<interface type='%s'> is none podform renders", type);
        }
        if (n->backend && strcmp(n->backend, "pod") && !*n->target)
                n->why_not = "it names no source";
}

/* Every NIC, named: the record's names, else net0, net1, ... not taken by one. */
static shown_nic *read_nics(vm_show *s, size_t *n_out) {
        size_t n = 0, next = 0;
        for (xmlNodePtr d = s->devices ? s->devices->children : NULL; d; d = d->next)
                n += pf_xml_is(d, "interface");
        shown_nic *v = pf_arena_array(s->t, n + 1, sizeof(*v));
        n = 0;
        for (xmlNodePtr d = s->devices ? s->devices->children : NULL; d; d = d->next)
                if (pf_xml_is(d, "interface")) {
                        v[n].e = d;
                        v[n].name = recorded_nic(s, prop(s, pf_xml_child(d, "mac"), "address"));
                        place_nic(s, &v[n++]);
                }
        for (size_t i = 0; i < n; i++)
                while (!v[i].name) {
                        const char *name = pf_arena_printf(s->t, "net%zu", next++);
                        bool taken = false;
                        for (size_t j = 0; j < n && !taken; j++)
                                taken = v[j].name && !strcmp(v[j].name, name);
                        if (!taken)
                                v[i].name = name;
                }
        *n_out = n;
        return v;
}

static void show_port(vm_show *s, bool *any, const char *port, bool udp) {
        if (!*any)
                pf_yaml_seq(s->y, "ports");
        *any = true;
        pf_yaml_item(s->y);
        pf_yaml_scalar(s->y, "port", PF_YAML_NUM, port);
        pf_yaml_scalar(s->y, "protocol", PF_YAML_STR, udp ? "UDP" : "TCP");
        pf_yaml_end(s->y);
}

/* passt's <portForward>s, or on podform's NAT network the VM's forwarded ports (its nat
 * object's "port[NIC].PROTO/PORT"). */
static void show_ports(vm_show *s, const shown_nic *n) {
        bool any = false;
        const pf_obj *nat = n->nat ? pf_objset_find(s->have, PF_R_NAT, s->vm) : NULL;
        const char *prefix = pf_arena_printf(s->t, "port[%s].", n->name);
        for (size_t i = 0; nat && i < nat->fields.n; i++) {
                const char *key = nat->fields.v[i].key, *rest = key + strlen(prefix), *slash = strchr(rest, '/');
                if (strncmp(key, prefix, strlen(prefix)) || !slash || strchr(slash, '.'))
                        continue;       /* another NIC's, or the same port for the host itself (.local) */
                show_port(s, &any, slash + 1, !strncmp(rest, "udp/", 4));
        }
        for (xmlNodePtr c = n->e->children; c; c = c->next)
                for (xmlNodePtr r = pf_xml_is(c, "portForward") ? c->children : NULL; r; r = r->next)
                        if (pf_xml_is(r, "range"))
                                show_port(s, &any, prop(s, r, "start"), pf_xml_prop_eq(c, "proto", "udp"));
        if (any)
                pf_yaml_end(s->y);
}

static void show_interface(vm_show *s, const shown_nic *n) {
        pf_yaml_item(s->y);
        pf_yaml_scalar(s->y, "name", PF_YAML_STR, n->name);
        pf_yaml_map(s->y, n->binding);
        if (n->mode)
                pf_yaml_scalar(s->y, "mode", PF_YAML_STR, n->mode);
        pf_yaml_end(s->y);
        const char *model = prop(s, pf_xml_child(n->e, "model"), "type");
        if (*model && pf_enum_lookup(&pf_nic_model_enum, model) >= 0)
                pf_yaml_scalar(s->y, "model", PF_YAML_STR, model);
        else if (strcmp(n->binding, "sriov"))
                pf_yaml_comment(s->y, "%s%s%s: applied, podform makes it virtio at the next restart", *model ? "model '" : "no <model>",
                                model, *model ? "' is none podform has" : "");
        pf_yaml_scalar(s->y, "macAddress", PF_YAML_STR, prop(s, pf_xml_child(n->e, "mac"), "address"));
        xmlNodePtr addr = pf_xml_child(n->e, "address");
        if (addr && pf_xml_prop_eq(addr, "type", "pci"))
                pf_yaml_scalar(s->y, "pciAddress", PF_YAML_STR, pf_lv_pci_text(s->t, addr));
        const char *boot = prop(s, pf_xml_child(n->e, "boot"), "order");
        if (*boot)
                pf_yaml_scalar(s->y, "bootOrder", PF_YAML_NUM, boot);
        show_ports(s, n);
        static const char *const managed[] = { "mac", "source", "model", "driver", "address", "boot", "target",
                                               "alias", "portForward", "backend", NULL };
        static const char *const source_set[] = { "network", "bridge", "dev", "mode", "address", NULL };
        say_kept_parts(s, n->e, managed);
        say_dropped_attrs(s, pf_xml_child(n->e, "source"), source_set);
        pf_yaml_end(s->y);
}

static void show_network(vm_show *s, const shown_nic *n) {
        pf_yaml_item(s->y);
        pf_yaml_scalar(s->y, "name", PF_YAML_STR, n->name);
        if (!strcmp(n->backend, "pod")) {
                pf_yaml_map(s->y, "pod");
                pf_yaml_end(s->y);
        } else if (n->host_key) {
                pf_yaml_map(s->y, "host");
                pf_yaml_scalar(s->y, n->host_key, PF_YAML_STR, n->target);
                pf_yaml_end(s->y);
        } else {
                pf_yaml_scalar(s->y, n->backend, PF_YAML_STR, n->target);
        }
        pf_yaml_end(s->y);
}

/* networkInterfaceMultiqueue: true when every virtio tap NIC has one queue per vCPU, as podform
 * renders it; absent when none has queues; else a comment (podform cannot say per-NIC queues). */
static void show_multiqueue(vm_show *s, const shown_nic *v, size_t n) {
        size_t virtio = 0, per_vcpu = 0, queued = 0;
        for (size_t i = 0; i < n; i++) {
                if (v[i].why_not || !v[i].tap || !pf_xml_prop_eq(pf_xml_child(v[i].e, "model"), "type", "virtio"))
                        continue;
                const char *q = prop(s, pf_xml_child(v[i].e, "driver"), "queues");
                virtio++;
                queued += *q != '\0';
                per_vcpu += *q && strtoul(q, NULL, 10) == s->vcpus;
        }
        if (s->vcpus > 1 && virtio && per_vcpu == virtio)
                pf_yaml_scalar(s->y, "networkInterfaceMultiqueue", PF_YAML_BOOL, "true");
        else if (queued)
                pf_yaml_comment(s->y, "%zu of %zu virtio NICs have their own queue counts, not one per vCPU: "
                                "applied, podform drops them at the next restart", queued, virtio);
}

static void show_interfaces(vm_show *s, const shown_nic *v, size_t n) {
        size_t shown = 0;
        for (size_t i = 0; i < n; i++) {
                if (v[i].why_not) {
                        pf_yaml_comment(s->y, "interface %s (%s) is kept as it is: %s", v[i].name,
                                        prop(s, pf_xml_child(v[i].e, "mac"), "address"), v[i].why_not);
                        continue;
                }
                if (!shown++)
                        pf_yaml_seq(s->y, "interfaces");
                show_interface(s, &v[i]);
        }
        if (shown)
                pf_yaml_end(s->y);
        show_multiqueue(s, v, n);
        /* without interfaces, podform would add one on the pod network */
        if (!shown)
                pf_yaml_scalar(s->y, "autoattachPodInterface", PF_YAML_BOOL, "false");
}

static void show_networks(vm_show *s, const shown_nic *v, size_t n) {
        size_t shown = 0;
        for (size_t i = 0; i < n; i++) {
                if (v[i].why_not)
                        continue;
                if (!shown++)
                        pf_yaml_seq(s->y, "networks");
                show_network(s, &v[i]);
        }
        if (shown)
                pf_yaml_end(s->y);
}

/* logSerialConsole: true when the first pty serial port logs where podform has it log; a log
 * elsewhere is a comment, as podform's next change to the definition moves it. */
static void show_serial_log(vm_show *s) {
        for (xmlNodePtr d = s->devices ? s->devices->children : NULL; d; d = d->next) {
                if (!pf_xml_is(d, "serial"))
                        continue;
                const char *file = prop(s, pf_xml_child(d, "log"), "file");
                if (!*file || !pf_xml_prop_eq(d, "type", "pty"))
                        return;
                char *mine = pf_lv_serial_log_path(s->vm);
                if (!strcmp(file, mine))
                        pf_yaml_scalar(s->y, "logSerialConsole", PF_YAML_BOOL, "true");
                else
                        pf_yaml_comment(s->y, "the serial console is logged to %s: applied, podform logs it to %s "
                                        "(logSerialConsole: true) or not at all at the next restart", file, mine);
                free(mine);
                return;
        }
}

/* ---- the document ---- */

/* Devices podform renders or reads; the others stay as they are and are named once. */
static void say_other_devices(vm_show *s) {
        static const char *const known[] = { "disk", "interface", "serial", "console", NULL };
        const char *others = other_elements(s, s->devices, known);
        if (*others)
                pf_yaml_comment(s->y, "kept as they are: %s", others);
        bool serial = false;
        for (xmlNodePtr d = s->devices ? s->devices->children : NULL; d; d = d->next) {
                bool console = pf_xml_is(d, "serial") || pf_xml_is(d, "console");
                serial |= pf_xml_is(d, "serial") && pf_xml_prop_eq(d, "type", "pty");
                if (console && !pf_xml_prop_eq(d, "type", "pty"))
                        pf_yaml_comment(s->y, "<%s type='%s'>: podform's next change to this VM's definition makes it a "
                                        "pty", d->name, prop(s, d, "type"));
        }
        if (!serial)
                pf_yaml_comment(s->y, "no pty serial console: applied, podform adds one at the next restart");
}

/* The machine's own elements podform does not write (firmware, clock, events, CPU model, other
 * features) stay as they are (merge.c); what it replaces loses what it has no key for; and the
 * address constraints gave an interface is no longer asked for by a document naming its backend. */
static void say_other_machine(vm_show *s) {
        static const char *const root_known[] = { "name", "uuid", "metadata", "memory", "currentMemory", "vcpu",
                                                  "os", "features", "cpu", "devices", NULL };
        static const char *const os_known[] = { "type", "boot", NULL }, *const features_known[] = { "acpi", "apic", NULL };
        static const char *const cpu_known[] = { "topology", NULL }, *const vcpu_known[] = { NULL };
        const char *kept[] = { other_elements(s, s->root, root_known),
                               other_elements(s, pf_xml_child(s->root, "os"), os_known),
                               other_elements(s, pf_xml_child(s->root, "features"), features_known),
                               pf_arena_printf(s->t, "%s%s", other_attrs(s, pf_xml_child(s->root, "cpu"), vcpu_known),
                                               other_elements(s, pf_xml_child(s->root, "cpu"), cpu_known)) };
        static const char *const where[] = { "", "in <os> ", "in <features> ", "in <cpu> " };
        const char *line = "";
        for (size_t i = 0; i < 4; i++)
                if (*kept[i])
                        line = pf_arena_printf(s->t, "%s%s%s%s", line, *line ? "; " : "", where[i], kept[i]);
        if (*line)
                pf_yaml_comment(s->y, "kept as they are: %s", line);
        static const char *const vcpu_set[] = { "placement", NULL };
        say_dropped_attrs(s, pf_xml_child(s->root, "vcpu"), vcpu_set);
        xmlNodePtr cur = pf_xml_child(s->root, "currentMemory");
        if (cur && strcmp(text(s, cur), text(s, pf_xml_child(s->root, "memory"))))
                pf_yaml_comment(s->y, "<currentMemory> %s %s: podform's next change to this VM's definition makes it "
                                "the memory", text(s, cur), prop(s, cur, "unit"));
        for (xmlNodePtr c = s->record ? s->record->children : NULL; c; c = c->next)
                if (pf_xml_is(c, "interface") && *prop(s, c, "ip"))
                        pf_yaml_comment(s->y, "interface %s holds %s from its constraints: applied as shown, podform forgets "
                                        "it; give network %s constraints: {ip: %s} to keep it", prop(s, c, "name"),
                                        prop(s, c, "ip"), prop(s, c, "name"), prop(s, c, "ip"));
}

static void show_spec(vm_show *s, const pf_obj *live, const pf_lv_doc *ld) {
        pf_yaml_map(s->y, "spec");
        pf_yaml_scalar(s->y, "running", PF_YAML_BOOL, live->active ? "true" : "false");
        pf_yaml_scalar(s->y, "autostart", PF_YAML_BOOL, ld->autostart ? "true" : "false");
        pf_yaml_map(s->y, "domain");
        show_machine(s);
        say_other_machine(s);
        pf_yaml_map(s->y, "devices");
        show_disks(s);
        size_t n = 0;
        const shown_nic *nics = read_nics(s, &n);
        show_interfaces(s, nics, n);
        show_serial_log(s);
        say_other_devices(s);
        pf_yaml_end(s->y);
        pf_yaml_end(s->y);
        show_networks(s, nics, n);
        pf_yaml_end(s->y);
}

/* Whether podform show writes this domain as a document (else a comment says why not). */
static bool shown_domain(xmlNodePtr root, const char *name) {
        return root && !pf_check_name(name, strlen(name)) &&
               (pf_xml_prop_eq(root, "type", "kvm") || pf_xml_prop_eq(root, "type", "qemu"));
}

void pf_domain_show(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_objset *have, const pf_obj *live,
                    pf_yaml_out *y) {
        const pf_lv_doc *ld = pf_lv_doc_find(k->lv, PF_R_DOMAIN, live->name);     /* parsed when observed */
        xmlNodePtr root = ld && ld->doc ? xmlDocGetRootElement(ld->doc) : NULL;
        if (!root)
                return;
        if (pf_check_name(live->name, strlen(live->name))) {
                pf_yaml_aside(y, "VirtualMachine '%s': podform's names are letters, digits, '_', '.' and '-': left out",
                                live->name);
                return;
        }
        if (!pf_xml_prop_eq(root, "type", "kvm") && !pf_xml_prop_eq(root, "type", "qemu")) {
                xmlChar *t = xmlGetProp(root, BAD_CAST "type");
                pf_yaml_aside(y, "VirtualMachine %s is a <domain type='%s'>; podform runs kvm and qemu domains: left out",
                              live->name, t ? (const char *) t : "");
                xmlFree(t);
                return;
        }
        pf_arena t = { 0 };
        vm_show s = { .t = &t, .k = k, .have = have, .vm = live->name, .root = root,
                      .devices = pf_xml_child(root, "devices"), .record = pf_lv_domain_record(ld->doc), .y = y };
        s.vcpus = (unsigned) strtoul(text(&s, pf_xml_child(root, "vcpu")), NULL, 10);
        pf_kind_show_head(self, live, y);
        show_spec(&s, live, ld);
        pf_arena_free(&t);
}

bool pf_domain_shows_volume(const pf_kind_ctx *k, const pf_objset *have, const char *pool, const char *volume) {
        for (size_t i = 0; i < have->objs.n; i++) {
                const pf_obj *o = &have->objs.v[i];
                size_t n = strlen(o->name);
                if (o->kind != PF_R_DOMAIN || strncmp(volume, o->name, n) || volume[n] != '-')
                        continue;
                const pf_lv_doc *ld = pf_lv_doc_find(k->lv, PF_R_DOMAIN, o->name);
                xmlNodePtr root = ld && ld->doc ? xmlDocGetRootElement(ld->doc) : NULL;
                if (!shown_domain(root, o->name))
                        continue;       /* left out: the volume is no disk of a shown VM */
                xmlNodePtr devices = pf_xml_child(root, "devices");
                for (xmlNodePtr d = devices ? devices->children : NULL; d; d = d->next) {
                        xmlNodePtr src = pf_xml_child(d, "source");
                        if (pf_xml_is(d, "disk") && pf_lv_disk_is_vms_volume(d, o->name) && pf_xml_prop_eq(src, "pool", pool) &&
                            pf_xml_prop_eq(src, "volume", volume))
                                return true;
                }
        }
        return false;
}
