/* test_merge_data: every tests/data/merge/NAME.want.xml (a document as podform renders it: a
 * <domain> or a <network>) is merged with libvirt/merge.h into NAME.have.xml (the live one, as
 * libvirt writes it, edited as the case's leading comment says). The result must
 *
 *   - validate against libvirt's RelaxNG schema, and be defined by libvirt itself (its test
 *     driver: the parser and the driver-independent checks), then undefined;
 *   - converge: read by libvirt/fields.h it gives every field of the wanted document with the
 *     same value, and no other field but sparse ones (someone else's devices, what libvirt fills
 *     in), so the plan after an apply is empty;
 *   - hold a CPU topology only where it matches the vCPU count (libvirt's QEMU driver refuses any
 *     other definition);
 *   - equal NAME.out.xml byte for byte.
 *
 * A domain's interfaces are named as the driver names them (by the live record, else by the
 * wanted document), and the wanted podform record counts only where the live domain has one of
 * its own (a domain podform did not create is not given one). PODFORM_REGENERATE=1 rewrites the
 * .out.xml files (review the diff). Adding a case is adding files. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "engine/obj.h"
#include "golden.h"
#include "libvirt/fields.h"
#include "libvirt/merge.h"
#include "rng.h"
#include "util/xml.h"

static virConnectPtr test_driver;

static void quiet(void *ud, virErrorPtr e) {
        (void) ud, (void) e;
}

static int group_setup(void **state) {
        (void) state;
        virSetErrorFunc(NULL, quiet);
        test_driver = virConnectOpen("test:///default");
        if (!test_driver) {
                fprintf(stderr, "test_merge_data: cannot open libvirt's test driver (test:///default)\n");
                return -1;
        }
        return pf_rng_load();
}

static int group_teardown(void **state) {
        (void) state;
        pf_rng_free();
        virConnectClose(test_driver);
        xmlCleanupParser();
        return 0;
}

static char *read_case(const char *base, const char *suffix) {
        char *path;
        if (asprintf(&path, "%s.%s", base, suffix) < 0)
                abort();
        char *text = pf_golden_read(path, NULL);
        if (!text)
                fail_msg("%s: cannot read it", path);
        free(path);
        return text;
}

/* The fields of a document, as the driver reads it. */
static void fields_of(xmlDocPtr doc, xmlDocPtr names, bool with_record, pf_arena *arena, pf_obj *o) {
        pf_fields b;
        pf_fields_init(&b, arena);
        if (!strcmp((const char *) xmlDocGetRootElement(doc)->name, "domain")) {
                pf_lv_domain_fields(doc, names, NULL, NULL, &b);
                if (with_record)
                        pf_lv_domain_record_fields(doc, &b);
        } else {
                pf_lv_network_fields(doc, &b);
        }
        pf_fields_finish(&b, o);
        pf_fields_free(&b);
}

static const pf_field *field(const pf_obj *o, const char *key) {
        for (size_t i = 0; i < o->fields.n; i++)
                if (!strcmp(o->fields.v[i].key, key))
                        return &o->fields.v[i];
        return NULL;
}

/* What the merged document reads as is what was wanted: the next plan would change nothing. */
static void check_converges(const char *base, xmlDocPtr want, xmlDocPtr have, xmlDocPtr merged) {
        pf_arena arena = { 0 };
        pf_obj w = { 0 }, m = { 0 };
        bool record = pf_lv_domain_record(have) != NULL;
        fields_of(want, NULL, record, &arena, &w);
        fields_of(merged, want, record, &arena, &m);
        for (size_t i = 0; i < w.fields.n; i++) {
                const pf_field *f = &w.fields.v[i], *g = field(&m, f->key);
                if (!g)
                        fail_msg("%s: the merged document has no %s (wanted: %s)", base, f->key, f->value);
                if (strcmp(f->value, g->value))
                        fail_msg("%s: the merged document has %s = %s, wanted %s", base, f->key, g->value, f->value);
        }
        for (size_t i = 0; i < m.fields.n; i++) {
                const pf_field *g = &m.fields.v[i];
                if (!field(&w, g->key) && !(g->flags & PF_FIELD_SPARSE))
                        fail_msg("%s: the merged document has %s = %s, which is not wanted", base, g->key, g->value);
        }
        pf_arena_free(&arena);
}

/* libvirt's QEMU driver refuses a topology whose product is not the vCPU count. */
static void check_topology(const char *base, xmlDocPtr doc) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        xmlNodePtr topo = pf_xml_child(pf_xml_child(root, "cpu"), "topology");
        if (!topo)
                return;
        unsigned long product = 1;
        static const char *const parts[] = { "sockets", "dies", "clusters", "cores", "threads" };
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
                xmlChar *v = xmlGetProp(topo, BAD_CAST parts[i]);
                product *= v ? strtoul((const char *) v, NULL, 10) : 1;
                xmlFree(v);
        }
        xmlChar *vcpu = xmlNodeGetContent(pf_xml_child(root, "vcpu"));
        unsigned long n = vcpu ? strtoul((const char *) vcpu, NULL, 10) : 0;
        xmlFree(vcpu);
        if (product != n)
                fail_msg("%s: the merged topology makes %lu vCPUs, <vcpu> says %lu", base, product, n);
}

/* libvirt parses and accepts it. */
static void check_defines(const char *base, const char *xml, bool domain) {
        if (domain) {
                virDomainPtr dom = virDomainDefineXML(test_driver, xml);
                if (!dom)
                        fail_msg("%s: libvirt refuses the merged domain: %s", base, virGetLastErrorMessage());
                virDomainUndefine(dom);
                virDomainFree(dom);
        } else {
                virNetworkPtr net = virNetworkDefineXML(test_driver, xml);
                if (!net)
                        fail_msg("%s: libvirt refuses the merged network: %s", base, virGetLastErrorMessage());
                virNetworkUndefine(net);
                virNetworkFree(net);
        }
}

static void test_case(void **state) {
        const char *path = *state;      /* "merge/NAME.want.xml" */
        char base[512];
        snprintf(base, sizeof(base), "%.*s", (int) (strlen(path) - strlen(".want.xml")), path);
        char *want_xml = read_case(base, "want.xml"), *have_xml = read_case(base, "have.xml");
        xmlDocPtr want = pf_xml_parse(want_xml), have = pf_xml_parse(have_xml);
        if (!want || !have)
                fail_msg("%s: want.xml and have.xml must be well-formed", base);
        bool domain = !strcmp((const char *) xmlDocGetRootElement(want)->name, "domain");
        char *out = domain ? pf_lv_merge_domain(want_xml, have_xml) : pf_lv_merge_network(want_xml, have_xml);
        assert_non_null(out);
        xmlDocPtr merged = pf_xml_parse(out);
        assert_non_null(merged);

        if (pf_rng_validate(merged, domain ? RNG_DOMAIN : RNG_NETWORK) != 0)
                fail_msg("%s: the merged document does not validate against libvirt's schema:\n%s", base, out);
        check_defines(base, out, domain);
        check_converges(base, want, have, merged);
        if (domain)
                check_topology(base, merged);
        char expected[600];
        snprintf(expected, sizeof(expected), "%s.out.xml", base);
        pf_golden_check(expected, out, strlen(out));

        xmlFreeDoc(merged);
        xmlFreeDoc(want);
        xmlFreeDoc(have);
        free(out);
        free(want_xml);
        free(have_xml);
}

int main(void) {
        return pf_golden_main(SRCDIR "/tests/data", "merge", ".want.xml", "merge-data", test_case, group_setup,
                              group_teardown);
}
