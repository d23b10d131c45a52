/* test_fields_data: every tests/data/fields/NAME.xml (a libvirt document: <network>, <pool>,
 * <volume> or <domain>, the kind from the root element) is read by src/libvirt/fields.h, and
 * what it extracts must equal NAME.fields byte for byte:
 *
 *     KEY = VALUE  [landing] [flag,flag]      one line per field, sorted by key
 *     needs KIND NAME                         what the object needs, in extraction order
 *
 * A volume is read as one of pool "default"; a domain's machine aliases canonicalise to
 * themselves, and its podform record fields (pf_lv_domain_record_fields) come with its own.
 * Live documents are libvirt's own output (its test driver), so the cases show what the
 * extractor ignores as much as what it reads. PODFORM_REGENERATE=1 rewrites the .fields files
 * (review the diff). Adding a case is adding files. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "engine/obj.h"
#include "libvirt/fields.h"
#include "golden.h"

static const char *canon_self(void *ud, const char *arch, const char *machine) {
        (void) ud, (void) arch;
        return machine;
}

static void extract(xmlDocPtr doc, pf_fields *b) {
        const char *root = (const char *) xmlDocGetRootElement(doc)->name;
        if (!strcmp(root, "network")) {
                pf_lv_network_fields(doc, b);
        } else if (!strcmp(root, "pool")) {
                pf_lv_pool_fields(doc, b);
        } else if (!strcmp(root, "volume")) {
                pf_lv_volume_fields(doc, "default", b);
        } else if (!strcmp(root, "domain")) {
                pf_lv_domain_fields(doc, NULL, canon_self, NULL, b);
                pf_lv_domain_record_fields(doc, b);
        } else {
                fail_msg("root element <%s> is no kind this test knows", root);
        }
}

static void print_flags(FILE *m, unsigned flags) {
        static const char *const names[] = { "sparse", "grow-only", "immutable", "hotplug", "stops", "disrupts" };
        if (!flags)
                return;
        const char *sep = " [";
        for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (flags & (1u << i)) {
                        fprintf(m, "%s%s", sep, names[i]);
                        sep = ",";
                }
        if (flags >> (sizeof(names) / sizeof(names[0])))
                fprintf(m, "%s0x%x", sep, flags);       /* a flag added to obj.h and not here */
        fputc(']', m);
}

static void print_obj(FILE *m, const pf_obj *o) {
        for (size_t i = 0; i < o->fields.n; i++) {
                const pf_field *f = &o->fields.v[i];
                fprintf(m, "%s = %s  [%s]", f->key, f->value, pf_landing_name(f->landing));
                print_flags(m, f->flags);
                fputc('\n', m);
        }
        for (size_t i = 0; i < o->needs.n; i++)
                fprintf(m, "needs %s %s\n", pf_rkind_name(o->needs.v[i].kind), o->needs.v[i].name);
}

static void test_case(void **state) {
        const char *path = *state;      /* "fields/NAME.xml" */
        xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
        if (!doc)
                fail_msg("%s is not well-formed XML", path);
        pf_arena arena = { 0 };
        pf_fields b;
        pf_fields_init(&b, &arena);
        extract(doc, &b);
        pf_obj o = { 0 };
        pf_fields_finish(&b, &o);
        char *out = NULL;
        size_t out_len = 0;
        FILE *m = open_memstream(&out, &out_len);
        print_obj(m, &o);
        fclose(m);

        char expected[512];
        snprintf(expected, sizeof(expected), "%.*s.fields", (int) (strlen(path) - 4), path);
        pf_golden_check(expected, out, out_len);
        free(out);
        pf_fields_free(&b);
        pf_arena_free(&arena);
        xmlFreeDoc(doc);
}

static int group_teardown(void **state) {
        (void) state;
        xmlCleanupParser();
        return 0;
}

int main(void) {
        return pf_golden_main(SRCDIR "/tests/data", "fields", ".xml", "fields-data", test_case, NULL, group_teardown);
}
