/* yaml_out.h: writes the YAML podform reads, for `podform show`. Block mappings, flow lists of
 * scalars and comments (libyaml's emitter has no comments, and what podform cannot express is
 * kept as one). Output is deterministic: keys come in the order the caller gives them. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct pf_yaml_out {
        FILE *f;
        unsigned depth;                 /* open mappings and sequences */
        bool in_document;
        bool dash;                      /* the next line starts a sequence item ("- ") */
} pf_yaml_out;

/* How a scalar is written: a string is quoted when YAML would read it as anything else (a
 * number, a boolean, null, a sexagesimal MAC) or when it holds a character plain style can't;
 * numbers and booleans are written as they are. */
typedef enum pf_yaml_type { PF_YAML_STR, PF_YAML_NUM, PF_YAML_BOOL } pf_yaml_type;

void pf_yaml_out_init(pf_yaml_out *y, FILE *f);
/* A new document ("---" between two), with a leading comment unless NULL. */
void pf_yaml_document(pf_yaml_out *y, const char *comment);
/* "key:" opening a nested mapping, closed by pf_yaml_end. */
void pf_yaml_map(pf_yaml_out *y, const char *key);
void pf_yaml_end(pf_yaml_out *y);
/* "key:" opening a block sequence whose items are mappings, each opened by pf_yaml_item
 * ("- " before its first key) and closed by pf_yaml_end; the sequence is closed by one more. */
void pf_yaml_seq(pf_yaml_out *y, const char *key);
void pf_yaml_item(pf_yaml_out *y);
void pf_yaml_scalar(pf_yaml_out *y, const char *key, pf_yaml_type type, const char *value);
/* "key: [a, b]" */
void pf_yaml_list(pf_yaml_out *y, const char *key, pf_yaml_type type, const char *const *v, size_t n);
/* "# text" at the current indentation; a newline in text starts another comment line. */
void pf_yaml_comment(pf_yaml_out *y, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
