/* test_load: valid configurations load into the expected model values (not only "no error"):
 * the examples, defaults, the storage shorthand, KubeVirt spellings, aliases, file ordering,
 * and per kind where its defaults are its own (Vxlan). */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/load.h"
#include "config/validate.h"
#include "run/reconcile.h"
#include "config/values.h"
#include "model/names.h"

/* Validate a loaded configuration and fail the test, showing the errors, if there are any. */
static pf_config *expect_valid(pf_config *c) {
        pf_run_check(c);
        if (c->diags.n_errors) {
                pf_diag_sort(&c->diags);
                pf_diag_print(&c->diags, stderr, false);
                fail_msg("expected no errors, got %zu", c->diags.n_errors);
        }
        return c;
}

static pf_config *load_paths(const char *const *paths, size_t n) {
        pf_config *c = malloc(sizeof(*c));
        pf_config_init(c);
        for (size_t i = 0; i < n; i++)
                pf_config_load_path(c, paths[i]);
        return expect_valid(c);
}

static pf_config *load_text(const char *text) {
        pf_config *c = malloc(sizeof(*c));
        pf_config_init(c);
        pf_config_load_buffer(c, "inline.yaml", text, strlen(text));
        return expect_valid(c);
}

static void drop(pf_config *c) {
        pf_config_free(c);
        free(c);
}

static const pf_vm *vm_named(const pf_model *m, const char *name) {
        for (size_t i = 0; i < m->vms.n; i++)
                if (!strcmp(m->vms.v[i].meta.name, name))
                        return &m->vms.v[i];
        fail_msg("no VirtualMachine %s", name);
        return NULL;
}

static const char *ip_str(const pf_ip *ip) {
        static char buf[64];
        return pf_ip_format(ip, buf);
}

static void test_maas_network(void **state) {
        (void) state;
        const char *paths[] = { SRCDIR "/examples/maas-network.yaml" };
        pf_config *c = load_paths(paths, 1);
        assert_int_equal(c->model.networks.n, 1);
        const pf_network *n = &c->model.networks.v[0];
        assert_string_equal(n->meta.name, "maas");
        assert_int_equal(n->forward, PF_FORWARD_NAT);
        assert_string_equal(n->bridge_name, "virbr1");
        assert_false(n->bridge_stp);
        assert_int_equal(n->bridge_delay, 0);
        assert_true(pf_loc_set(n->bridge_delay_loc));
        assert_int_equal(n->nat_port_start, 1024);
        assert_int_equal(n->nat_port_end, 65535);
        assert_string_equal(n->domain, "testnet");
        assert_int_equal(n->ips.n, 1);
        assert_string_equal(ip_str(&n->ips.v[0].address), "172.16.99.1");
        assert_int_equal(n->ips.v[0].prefix, 24);
        assert_false(pf_loc_set(n->ips.v[0].dhcp_loc));     /* MAAS serves DHCP, not libvirt */
        assert_true(n->autostart);
        assert_true(n->active);
        assert_int_equal(n->meta.name_loc.line, 12);
        assert_int_equal(n->meta.name_loc.col, 9);
        drop(c);
}

static void test_maas_pod(void **state) {
        (void) state;
        const char *paths[] = { SRCDIR "/examples/maas-pod" };
        pf_config *c = load_paths(paths, 1);
        const pf_model *m = &c->model;
        assert_int_equal(c->n_files, 5);
        assert_int_equal(m->hosts.n, 1);
        assert_int_equal(m->vms.n, 4);
        /* Files are read in byte order: host, links, pools, subnets, vms. */
        assert_non_null(strstr(m->hosts.v[0].meta.loc.src->path, "host.yaml"));

        const pf_vm *node = vm_named(m, "maas-node01");
        assert_int_equal(node->memory, 4ULL << 30);
        assert_int_equal(node->cores, 2);
        assert_int_equal(node->sockets, 1);
        assert_int_equal(node->disks.n, 2);
        assert_string_equal(node->disks.v[0].name, "root");
        assert_int_equal(node->disks.v[0].size, 32000000000ULL);        /* bare number = GB */
        assert_string_equal(node->disks.v[0].pool, "pool1");
        assert_true(node->disks.v[0].from_storage);
        assert_string_equal(node->disks.v[1].name, "home");
        assert_int_equal(node->disks.v[1].size, 64000000000ULL);
        assert_string_equal(node->disks.v[1].pool, "pool2");
        /* autoattachPodInterface: one `default` bridge NIC on the pod network. */
        assert_int_equal(node->interfaces.n, 1);
        assert_true(node->interfaces.v[0].implicit);
        assert_string_equal(node->interfaces.v[0].name, "default");
        assert_int_equal(node->interfaces.v[0].binding, PF_BINDING_BRIDGE);
        assert_int_equal(node->networks.v[0].backend, PF_BACKEND_POD);
        assert_int_equal(node->boot.n, 2);
        assert_int_equal(node->boot.v[0].dev, PF_BOOT_NETWORK);
        assert_int_equal(node->boot.v[1].dev, PF_BOOT_HD);
        assert_int_equal(node->meta.labels.n, 1);
        assert_string_equal(node->meta.labels.v[0].key, "role");
        assert_string_equal(node->meta.labels.v[0].value, "compute");
        assert_int_equal(node->tags.n, 2);
        assert_string_equal(node->tags.v[1].name, "compute");

        const pf_vm *web1 = vm_named(m, "web1");
        assert_int_equal(web1->networks.n, 2);
        assert_int_equal(web1->networks.v[0].backend, PF_BACKEND_CONSTRAINTS);
        assert_string_equal(web1->networks.v[0].c_space, "provisioning");
        assert_string_equal(ip_str(&web1->networks.v[0].c_ip), "10.20.0.50");
        assert_string_equal(web1->networks.v[1].c_subnet, "storage");
        assert_string_equal(web1->machine, "q35");
        assert_true(web1->autostart);

        const pf_vm *web2 = vm_named(m, "web2");
        assert_int_equal(web2->type, PF_DOMAIN_QEMU);
        assert_false(web2->running);
        assert_int_equal(web2->memory, 1536ULL << 20);
        assert_int_equal(web2->disks.v[0].size, 16ULL << 30);
        assert_int_equal(web2->interfaces.v[1].binding, PF_BINDING_MACVTAP);
        assert_int_equal(web2->networks.v[1].backend, PF_BACKEND_MACVTAP);
        assert_string_equal(web2->networks.v[1].macvtap, "mvt-web2");

        const pf_vm *db1 = vm_named(m, "db1");
        assert_int_equal(db1->threads, 2);
        assert_int_equal(db1->disks.n, 3);
        assert_int_equal(db1->disks.v[1].format, PF_DISK_RAW);
        assert_int_equal(db1->disks.v[1].bus, PF_BUS_SCSI);
        assert_int_equal(db1->disks.v[0].boot_order, 2);
        assert_null(db1->disks.v[2].pool);      /* Host.defaultStoragePool applies later */
        assert_int_equal(db1->interfaces.v[0].boot_order, 1);
        assert_int_equal(db1->interfaces.v[1].model, PF_MODEL_E1000E);
        assert_true(db1->multiqueue);
        pf_mac mac;
        assert_null(pf_parse_mac("52:54:00:d6:00:01", &mac));
        assert_memory_equal(&db1->interfaces.v[0].mac_address, &mac, sizeof(mac));
        assert_int_equal(db1->networks.v[1].c_type, PF_CTYPE_MACVLAN);
        assert_int_equal(db1->networks.v[1].c_mode, PF_MACVLAN_PRIVATE);
        assert_true(pf_loc_set(db1->networks.v[0].c_vlan_loc));
        assert_int_equal(db1->networks.v[0].c_vlan, 0);
        drop(c);
}

static void test_kubevirt(void **state) {
        (void) state;
        const char *paths[] = { SRCDIR "/examples/kubevirt" };
        pf_config *c = load_paths(paths, 1);
        const pf_model *m = &c->model;
        size_t multus_default = 0, genie = 0, masquerade_ports = 0, slirp = 0, sriov = 0, no_net = 0;
        for (size_t i = 0; i < m->vms.n; i++) {
                const pf_vm *vm = &m->vms.v[i];
                if (!vm->autoattach_pod_interface && vm->interfaces.n == 0)
                        no_net++;
                for (size_t j = 0; j < vm->networks.n; j++) {
                        multus_default += vm->networks.v[j].backend == PF_BACKEND_MULTUS && vm->networks.v[j].multus_default;
                        genie += vm->networks.v[j].backend == PF_BACKEND_GENIE;
                }
                for (size_t j = 0; j < vm->interfaces.n; j++) {
                        const pf_iface *f = &vm->interfaces.v[j];
                        if (f->binding == PF_BINDING_MASQUERADE && f->ports.n) {
                                masquerade_ports++;
                                assert_int_equal(f->ports.v[0].port, 80);
                                assert_int_equal(f->ports.v[0].protocol, PF_PROTO_TCP);
                        }
                        slirp += f->binding == PF_BINDING_SLIRP;
                        sriov += f->binding == PF_BINDING_SRIOV;
                }
        }
        assert_int_equal(multus_default, 1);
        assert_int_equal(genie, 2);
        assert_true(masquerade_ports >= 2);
        assert_true(slirp >= 1);
        assert_int_equal(sriov, 1);
        assert_int_equal(no_net, 1);
        drop(c);
}

static void test_kubevirt_ipv6_disk(void **state) {
        (void) state;
        /* KubeVirt's IPv6 example: `- disk:` with bus and name as siblings, an unnamed volume. */
        pf_config *c = load_text(
                "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: v6}\nspec:\n"
                "  domain:\n    devices:\n      disks:\n        - disk:\n          bus: sata\n          name: cloudinitdisk\n"
                "      interfaces:\n        - name: red\n          masquerade: {}\n          ports:\n            - port: 80\n"
                "  networks:\n  - name: red\n    pod: {}\n"
                "  volumes:\n  - cloudInitNoCloud:\n      userData: |-\n        #!/bin/bash\n        echo hi\n");
        const pf_vm *vm = &c->model.vms.v[0];
        assert_int_equal(vm->disks.n, 1);
        assert_string_equal(vm->disks.v[0].name, "cloudinitdisk");
        assert_int_equal(vm->disks.v[0].bus, PF_BUS_SATA);
        assert_false(pf_loc_set(vm->disks.v[0].size_loc));
        assert_int_equal(vm->volumes.n, 1);
        assert_null(vm->volumes.v[0].name);
        assert_string_equal(vm->volumes.v[0].user_data, "#!/bin/bash\necho hi");
        drop(c);
}

static void test_defaults(void **state) {
        (void) state;
        pf_config *c = load_text(
                "apiVersion: podform/v1\nkind: Host\nmetadata: {name: kvm01}\n---\n"
                "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: bare}\n---\n"
                "---\n# an empty document is skipped\n---\n"
                "apiVersion: podform/v1\nkind: Network\nmetadata: {name: n}\nspec: {}\n---\n"
                "apiVersion: podform/v1\nkind: StoragePool\nmetadata: {name: p}\nspec: {path: /srv/p}\n---\n"
                "apiVersion: podform/v1\nkind: Macvtap\nmetadata: {name: t0}\nspec: {parent: eno2}\n");
        const pf_model *m = &c->model;
        assert_int_equal(c->n_resources, 5);
        const pf_host *h = &m->hosts.v[0];
        assert_string_equal(h->connect, "qemu:///system");
        assert_int_equal(h->attach_policy, PF_ATTACH_AUTO);
        assert_int_equal(h->default_macvlan_mode, PF_MACVLAN_BRIDGE);
        assert_string_equal(h->default_storage_pool, "default");
        assert_true(h->overcommit_cpu == 1.0 && h->overcommit_memory == 1.0);
        assert_true(h->permit_bridge_on_pod_network);
        assert_false(h->prune);
        const pf_vm *vm = &m->vms.v[0];
        assert_true(vm->running);
        assert_false(vm->autostart);
        assert_false(pf_loc_set(vm->type_loc));         /* unset: what the host offers (kinds/domain.c) */
        assert_string_equal(vm->arch, "x86_64");
        assert_int_equal(vm->cores, 1);
        assert_int_equal(vm->memory, 2ULL << 30);
        assert_int_equal(vm->interfaces.n, 1);  /* autoattachPodInterface, even without spec */
        assert_true(vm->interfaces.v[0].implicit);
        const pf_network *n = &m->networks.v[0];
        assert_int_equal(n->forward, PF_FORWARD_NAT);
        assert_true(!n->bridge_stp && n->autostart && n->active);   /* stp: false, as on a Bridge */
        assert_int_equal(n->bridge_delay, 0);
        assert_true(m->pools.v[0].autostart);
        assert_int_equal(m->pools.v[0].type, PF_POOL_DIR);
        assert_int_equal(m->macvtaps.v[0].kind, PF_KIND_MACVTAP);
        assert_false(pf_loc_set(m->macvtaps.v[0].mode_loc));    /* Host.defaultMacvlanMode applies */
        assert_int_equal(m->macvtaps.v[0].state, PF_LINK_UP);
        drop(c);
}

static void test_values_loaded(void **state) {
        (void) state;
        pf_config *c = load_text(
                "apiVersion: podform/v1\nkind: Host\nmetadata: {name: kvm01, host: kvm01}\n"
                "spec: {attachPolicy: legacy, defaultMacvlanMode: vepa, overcommit: {cpu: 4.5, memory: 1.25},\n"
                "       permitBridgeOnPodNetwork: false, prune: true, connect: 'test:///default'}\n---\n"
                "apiVersion: podform/v1\nkind: Subnet\nmetadata: {name: pxe}\n"
                "spec: {cidr: 10.20.0.0/24, vlan: 42, dhcp: relay, gateway: 10.20.0.1,\n"
                "       reserved: ['10.20.0.1-10.20.0.20', 10.20.0.254], interfaces: [br-pxe, eno1]}\n---\n"
                "apiVersion: podform/v1\nkind: Bridge\nmetadata: {name: br-pxe}\n"
                "spec: {ports: [eno1], stp: true, forwardDelay: 4, mtu: 9000, macAddress: '52-54-00-AA-00-01',\n"
                "       addresses: [10.20.0.5/24], state: down}\n---\n"
                "apiVersion: podform/v1\nkind: Macvlan\nmetadata: {name: shim0}\n"
                "spec: {parent: eno2, mode: private, addresses: ['fd00::2/64']}\n---\n"
                "apiVersion: podform/v1\nkind: Network\nmetadata: {name: lab}\n"
                "spec:\n  ips:\n  - address: 192.168.50.1\n    prefix: 24\n    dhcp:\n"
                "      ranges: [{start: 192.168.50.100, end: 192.168.50.200}]\n"
                "      hosts: [{mac: '52:54:00:00:00:01', ip: 192.168.50.10, name: web1}]\n"
                "      bootp: {file: pxelinux.0, server: 192.168.50.1}\n");
        const pf_model *m = &c->model;
        const pf_host *h = &m->hosts.v[0];
        assert_int_equal(h->attach_policy, PF_ATTACH_LEGACY);
        assert_int_equal(h->default_macvlan_mode, PF_MACVLAN_VEPA);
        assert_true(h->overcommit_cpu == 4.5 && h->overcommit_memory == 1.25);
        assert_false(h->permit_bridge_on_pod_network);
        assert_true(h->prune);
        assert_string_equal(h->connect, "test:///default");
        const pf_subnet *s = &m->subnets.v[0];
        char buf[64];
        assert_string_equal(pf_cidr_format(&s->cidr, buf), "10.20.0.0/24");
        assert_int_equal(s->vlan, 42);
        assert_int_equal(s->dhcp, PF_SUBNET_DHCP_RELAY);
        assert_int_equal(s->reserved.n, 2);
        assert_string_equal(ip_str(&s->reserved.v[0].end), "10.20.0.20");
        assert_string_equal(ip_str(&s->reserved.v[1].start), "10.20.0.254");
        assert_string_equal(s->interfaces.v[1].name, "eno1");
        const pf_bridge *b = &m->bridges.v[0];
        assert_true(b->stp);
        assert_int_equal(b->forward_delay, 4);
        assert_int_equal(b->mtu, 9000);
        assert_string_equal(pf_mac_format(&b->mac_address, buf), "52:54:00:aa:00:01");
        assert_string_equal(pf_cidr_format(&b->addresses.v[0].cidr, buf), "10.20.0.5/24");
        assert_int_equal(b->state, PF_LINK_DOWN);
        assert_int_equal(m->macvlans.v[0].mode, PF_MACVLAN_PRIVATE);
        assert_int_equal(m->macvlans.v[0].addresses.v[0].cidr.ip.family, AF_INET6);
        const pf_net_ip *ip = &m->networks.v[0].ips.v[0];
        assert_true(pf_loc_set(ip->dhcp_loc));
        assert_string_equal(ip_str(&ip->dhcp_ranges.v[0].start), "192.168.50.100");
        assert_string_equal(ip->dhcp_hosts.v[0].name, "web1");
        assert_string_equal(ip->bootp_file, "pxelinux.0");
        assert_string_equal(ip->bootp_server, "192.168.50.1");
        drop(c);
}

static void test_aliases(void **state) {
        (void) state;
        /* Anchored values reused: a scalar (a size) and a mapping (a binding). */
        pf_config *c = load_text(
                "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: a}\nspec:\n"
                "  domain:\n    devices:\n"
                "      disks: [{name: root, size: &size 10Gi}, {name: data, size: *size}]\n"
                "      interfaces:\n"
                "      - {name: one, bridge: &binding {}}\n"
                "      - {name: two, bridge: *binding}\n"
                "  networks: [{name: one, pod: {}}, {name: two, network: lab}]\n");
        const pf_vm *vm = &c->model.vms.v[0];
        assert_int_equal(vm->disks.n, 2);
        assert_int_equal(vm->disks.v[0].size, 10ULL << 30);
        assert_int_equal(vm->disks.v[1].size, 10ULL << 30);
        assert_int_equal(vm->interfaces.v[0].binding, PF_BINDING_BRIDGE);
        assert_int_equal(vm->interfaces.v[1].binding, PF_BINDING_BRIDGE);
        assert_string_equal(vm->networks.v[1].network, "lab");
        drop(c);
}

static void test_directory_order(void **state) {
        (void) state;
        char dir[] = "/tmp/podform-test-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[256];
#define DOC "apiVersion: podform/v1\nkind: StoragePool\nmetadata: {name: %s}\nspec: {path: /srv/%s}\n"
        static const char *const files[] = { "b.yaml", "a.yml", "B.yaml", ".hidden.yaml", "notes.txt", "sub/c.yaml", ".git/x.yaml" };
        snprintf(path, sizeof(path), "%s/sub", dir);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/.git", dir);
        mkdir(path, 0755);
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
                FILE *f = fopen(path, "w");
                assert_non_null(f);
                char name[32];
                size_t k = 0;
                for (const char *p = files[i]; *p && k < sizeof(name) - 1; p++)
                        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
                                name[k++] = *p;
                name[k] = '\0';
                fprintf(f, DOC, name, name);
                fclose(f);
        }
        const char *paths[] = { dir };
        pf_config *c = load_paths(paths, 1);
        /* Byte order: "B.yaml" < "a.yml" < "b.yaml" < "sub/c.yaml"; dot-names and .txt skipped. */
        assert_int_equal(c->model.pools.n, 4);
        assert_string_equal(c->model.pools.v[0].meta.name, "Byaml");
        assert_string_equal(c->model.pools.v[1].meta.name, "ayml");
        assert_string_equal(c->model.pools.v[2].meta.name, "byaml");
        assert_string_equal(c->model.pools.v[3].meta.name, "subcyaml");
        drop(c);
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_scoped_duplicates(void **state) {
        (void) state;
        /* The same VM name on two hosts of a fleet repository is fine. */
        pf_config *c = load_text(
                "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: web, host: kvm01}\n---\n"
                "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: web, host: kvm02}\n");
        assert_int_equal(c->model.vms.n, 2);
        assert_string_equal(c->model.vms.v[1].meta.host, "kvm02");
        drop(c);
}

static void test_vxlan(void **state) {
        (void) state;
        pf_config *c = load_text(
                "apiVersion: podform/v1\nkind: Vxlan\nmetadata: {name: vx0}\nspec: {id: 1, local: 10.9.0.1, remote: 10.9.0.2}\n---\n"
                "apiVersion: podform/v1\nkind: Vxlan\nmetadata: {name: vx1}\nspec:\n"
                "  id: 16777215\n  parent: eno1\n  local: fd00:9::1\n  group: ff05::42\n  dstport: 8472\n"
                "  learning: false\n  mtu: 1430\n  macAddress: \"52:54:00:aa:00:42\"\n"
                "  addresses: [10.42.0.1/24]\n  state: down\n");
        const pf_model *m = &c->model;
        assert_int_equal(m->vxlans.n, 2);
        const pf_vxlan *d = &m->vxlans.v[0], *v = &m->vxlans.v[1];
        /* the defaults: IANA's port, not the kernel's 8472; the kernel's learning and MTU */
        assert_int_equal(d->id, 1);
        assert_null(d->parent);
        assert_string_equal(ip_str(&d->local), "10.9.0.1");
        assert_string_equal(ip_str(&d->remote), "10.9.0.2");
        assert_int_equal(d->group.family, 0);
        assert_int_equal(d->dstport, 4789);
        assert_false(pf_loc_set(d->dstport_loc));
        assert_true(d->learning);
        assert_int_equal(d->mtu, 0);
        assert_int_equal(d->state, PF_LINK_UP);
        assert_int_equal(d->addresses.n, 0);
        char buf[64];
        assert_int_equal(v->id, 16777215);
        assert_string_equal(v->parent, "eno1");
        assert_int_equal(v->remote.family, 0);
        assert_string_equal(ip_str(&v->group), "ff05::42");
        assert_int_equal(v->dstport, 8472);
        assert_false(v->learning);
        assert_int_equal(v->mtu, 1430);
        assert_string_equal(pf_mac_format(&v->mac_address, buf), "52:54:00:aa:00:42");
        assert_string_equal(pf_cidr_format(&v->addresses.v[0].cidr, buf), "10.42.0.1/24");
        assert_int_equal(v->state, PF_LINK_DOWN);
        assert_int_equal(v->id_loc.line, 10);       /* 4 lines, "---", 4 lines: id is the 10th */
        drop(c);

        /* The example: each host's Vxlan is a port of its Bridge, which a Network uses. */
        const char *paths[] = { SRCDIR "/examples/host-links/vxlan.yaml" };
        c = load_paths(paths, 1);
        m = &c->model;
        assert_int_equal(m->vxlans.n, 2);
        assert_int_equal(m->bridges.n, 2);
        for (size_t i = 0; i < 2; i++) {
                const pf_vxlan *x = &m->vxlans.v[i];
                assert_string_equal(x->meta.host, m->bridges.v[i].meta.host);
                assert_string_equal(m->bridges.v[i].ports.v[0].name, x->meta.name);
                assert_string_equal(m->networks.v[i].bridge_name, m->bridges.v[i].meta.name);
                assert_int_equal(m->networks.v[i].forward, PF_FORWARD_BRIDGE);
        }
        assert_string_equal(ip_str(&m->vxlans.v[0].remote), "10.9.0.2");
        assert_string_equal(ip_str(&m->vxlans.v[1].remote), "10.9.0.1");
        drop(c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_maas_network), cmocka_unit_test(test_maas_pod),
                cmocka_unit_test(test_kubevirt), cmocka_unit_test(test_kubevirt_ipv6_disk),
                cmocka_unit_test(test_defaults), cmocka_unit_test(test_values_loaded),
                cmocka_unit_test(test_aliases), cmocka_unit_test(test_directory_order),
                cmocka_unit_test(test_scoped_duplicates), cmocka_unit_test(test_vxlan),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
