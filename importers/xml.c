/*
 * xml - subscriber records from XML, one <subscriber> subtree at a time.
 *
 * The reader walks the document with xmlTextReaderRead; each <subscriber>
 * under the root is expanded into a small tree, read, and skipped with
 * xmlTextReaderNext, which lets libxml2 free it. Strings handed out in a
 * record belong to the reader until the next call.
 */
#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/util/alloc.h"
#include "importers/xml.h"

/* No DTD loading, no network, no entity substitution, no huge-document relaxation. */
#define XML_READER_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT)

#define XML_PROLOG_MAX (64 * 1024)

static const char dtd_refused[] =
    "the document declares a DTD (<!DOCTYPE>); DTDs and entities are refused (external entities, entity expansion)";

struct xml_reader {
    xmlTextReaderPtr reader;
    xml_read_fn read;           /* the caller's source, behind xml_read_checked */
    void *read_arg;
    char *prolog;               /* the bytes before the root element, while looking for a DOCTYPE */
    size_t prolog_len;
    bool prolog_done;
    bool dtd;
    int pending;                /* result of the xmlTextReaderNext that skipped the last record */
    bool has_pending;
    bool root_seen;
    bool failed;
    char err[320];
    xmlNodePtr current;         /* the record last returned */
    xmlChar **owned;            /* strings of the current record */
    size_t nowned, capowned;
    struct xml_attr *attrs;
    size_t nattrs, capattrs;
    const char **lists;
    size_t nlists, caplists;
    xmlBufferPtr raw;
};

static void xml_on_error(void *arg, xmlErrorPtr e)
{
    struct xml_reader *r = arg;
    if (!e || e->level < XML_ERR_ERROR || r->err[0])
        return;
    char msg[256];
    snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "not well-formed");
    msg[strcspn(msg, "\n")] = 0;
    snprintf(r->err, sizeof(r->err), "line %d: %s", e->line, msg);
}

/*
 * xml_prolog_scan - look at the LEN bytes before the root element: 1 when
 * they declare a DTD, 0 when the root element starts without one, -1 when
 * more bytes are needed. Comments and processing instructions are skipped.
 */
static int xml_prolog_scan(const char *p, size_t len)
{
    size_t i = 0;
    for (;;) {
        while (i < len && p[i] != '<')
            i++;
        if (i + 1 >= len)
            return -1;
        const char *m = p + i, *end;
        size_t left = len - i;
        if (m[1] == '?') {
            if (!(end = memmem(m + 2, left - 2, "?>", 2)))
                return -1;
        } else if (left >= 4 && memcmp(m, "<!--", 4) == 0) {
            if (!(end = memmem(m + 4, left - 4, "-->", 3)))
                return -1;
        } else if (m[1] == '!') {
            if (left < 9)
                return -1;
            return memcmp(m, "<!DOCTYPE", 9) == 0 ? 1 : 0;
        } else {
            return 0;
        }
        i = (size_t)(end - p) + 2;
    }
}

/* The read callback libxml2 sees: the caller's, refusing a DTD before libxml2 parses it. */
static int xml_read_checked(void *arg, char *buf, int len)
{
    struct xml_reader *r = arg;
    int n = r->read(r->read_arg, buf, len);
    if (n <= 0 || r->prolog_done)
        return n;
    r->prolog = xrealloc(r->prolog, r->prolog_len + (size_t)n);
    memcpy(r->prolog + r->prolog_len, buf, (size_t)n);
    r->prolog_len += (size_t)n;
    int found = xml_prolog_scan(r->prolog, r->prolog_len);
    if (found == 1) {
        r->dtd = true;
        return -1;
    }
    if (found == 0 || r->prolog_len > XML_PROLOG_MAX) {
        r->prolog_done = true;
        xfree(r->prolog);
        r->prolog = NULL;
    }
    return n;
}

static void xml_reader_wrap(struct xml_reader *r, xmlTextReaderPtr tr)
{
    r->reader = tr;
    r->raw = xmlBufferCreate();
    xmlTextReaderSetStructuredErrorHandler(tr, xml_on_error, r);
}

static int xml_close_nothing(void *arg)
{
    (void)arg;
    return 0;
}

/*
 * xml_reader_new - a reader taking its bytes from READ(ARG); ENCODING
 * overrides the document's declaration when not NULL. NULL only when
 * libxml2 cannot allocate it. The caller xml_reader_free()s it.
 */
struct xml_reader *xml_reader_new(xml_read_fn read, void *arg, const char *encoding)
{
    xmlInitParser();
    struct xml_reader *r = xcalloc(1, sizeof(*r));
    r->read = read;
    r->read_arg = arg;
    xmlTextReaderPtr tr = xmlReaderForIO(xml_read_checked, xml_close_nothing, r, NULL, encoding, XML_READER_OPTIONS);
    if (!tr && !r->dtd) {
        xfree(r);
        return NULL;
    }
    if (tr)
        xml_reader_wrap(r, tr);
    return r;
}

/* xml_reader_new_mem - a reader over LEN bytes at DATA, which must outlive it. As xml_reader_new. */
struct xml_reader *xml_reader_new_mem(const char *data, size_t len, const char *encoding)
{
    xmlInitParser();
    if (len > (size_t)0x7fffffff)
        return NULL;
    struct xml_reader *r = xcalloc(1, sizeof(*r));
    r->prolog_done = true;
    r->dtd = xml_prolog_scan(data, len) == 1;
    xmlTextReaderPtr tr = xmlReaderForMemory(data, (int)len, NULL, encoding, XML_READER_OPTIONS);
    if (!tr) {
        xfree(r);
        return NULL;
    }
    xml_reader_wrap(r, tr);
    return r;
}

static int xml_fail(struct xml_reader *r, const char *fallback)
{
    r->failed = true;
    if (!r->err[0])
        snprintf(r->err, sizeof(r->err), "line %d: %s", xmlTextReaderGetParserLineNumber(r->reader), fallback);
    return -1;
}

static const char *xml_own(struct xml_reader *r, xmlChar *s)
{
    if (!s)
        return NULL;
    if (r->nowned == r->capowned) {
        r->capowned = r->capowned ? r->capowned * 2 : 16;
        r->owned = xrealloc(r->owned, r->capowned * sizeof(*r->owned));
    }
    r->owned[r->nowned++] = s;
    return (const char *)s;
}

static void xml_forget(struct xml_reader *r)
{
    for (size_t i = 0; i < r->nowned; i++)
        xmlFree(r->owned[i]);
    r->nowned = r->nattrs = r->nlists = 0;
    r->current = NULL;
}

static void xml_add_attr(struct xml_reader *r, const char *key, const char *value)
{
    if (r->nattrs == r->capattrs) {
        r->capattrs = r->capattrs ? r->capattrs * 2 : 8;
        r->attrs = xrealloc(r->attrs, r->capattrs * sizeof(*r->attrs));
    }
    r->attrs[r->nattrs].key = key;
    r->attrs[r->nattrs].value = value;
    r->nattrs++;
}

static void xml_add_list(struct xml_reader *r, const char *name)
{
    if (r->nlists == r->caplists) {
        r->caplists = r->caplists ? r->caplists * 2 : 4;
        r->lists = xrealloc(r->lists, r->caplists * sizeof(*r->lists));
    }
    r->lists[r->nlists++] = name;
}

static bool xml_is(const xmlChar *name, const char *want)
{
    return name && strcmp((const char *)name, want) == 0;
}

/* The text of NODE (an element or attribute): its one text child in place, else a copy; NULL if none. */
static const char *xml_text(struct xml_reader *r, xmlNodePtr node)
{
    xmlNodePtr t = node->children;
    if (!t)
        return node->type == XML_ATTRIBUTE_NODE ? "" : NULL;
    if (!t->next && (t->type == XML_TEXT_NODE || t->type == XML_CDATA_SECTION_NODE) && t->content)
        return (const char *)t->content;
    return xml_own(r, xmlNodeGetContent(node));
}

/* The value of NODE's attribute NAME (no namespace), or NULL. */
static const char *xml_attr(struct xml_reader *r, xmlNodePtr node, const char *name)
{
    for (xmlAttrPtr a = node->properties; a; a = a->next)
        if (!a->ns && xml_is(a->name, name))
            return xml_text(r, (xmlNodePtr)a);
    return NULL;
}

/* Fill REC from the expanded <subscriber> NODE. */
static void xml_read_record(struct xml_reader *r, xmlNodePtr node, struct xml_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    rec->line = xmlGetLineNo(node);
    rec->email = xml_attr(r, node, "email");
    rec->name = xml_attr(r, node, "name");
    for (xmlNodePtr ch = node->children; ch; ch = ch->next) {
        if (ch->type != XML_ELEMENT_NODE)
            continue;
        const char *text = xml_text(r, ch);
        if (!text)
            text = "";
        if (xml_is(ch->name, "email")) {
            if (rec->email && strcmp(rec->email, text) != 0)
                rec->problem = "two different email addresses";
            rec->email = text;
        } else if (xml_is(ch->name, "name")) {
            rec->name = text;
        } else if (xml_is(ch->name, "attribute")) {
            const char *key = xml_attr(r, ch, "name");
            if (!key || !*key)
                rec->problem = "<attribute> without a name";
            else
                xml_add_attr(r, key, text);
        } else if (xml_is(ch->name, "list")) {
            xml_add_list(r, text);
        } else {
            xml_add_attr(r, (const char *)ch->name, text);
        }
    }
    rec->nattrs = r->nattrs;
    rec->attrs = r->attrs;
    rec->nlists = r->nlists;
    rec->lists = r->lists;
}

/* Move past the record last returned; libxml2 may then free its tree. */
static void xml_skip_current(struct xml_reader *r)
{
    if (r->current && !r->has_pending) {
        r->pending = xmlTextReaderNext(r->reader);
        r->has_pending = true;
    }
}

/*
 * xml_reader_next - the next record in REC. Returns 1 with a record (its
 * strings valid until the next call), 0 at the end of the document, -1 when
 * the document is refused or not well-formed (xml_reader_error says why).
 * An element under the root other than <subscriber> comes back as a record
 * with PROBLEM set.
 */
int xml_reader_next(struct xml_reader *r, struct xml_record *rec)
{
    xml_skip_current(r);
    xml_forget(r);
    if (r->failed)
        return -1;
    for (;;) {
        int ret = r->dtd ? -1 : r->has_pending ? r->pending : xmlTextReaderRead(r->reader);
        r->has_pending = false;
        if (r->dtd) {
            snprintf(r->err, sizeof(r->err), "%s", dtd_refused);
            return xml_fail(r, dtd_refused);
        }
        if (ret < 0)
            return xml_fail(r, "not well-formed XML");
        if (ret == 0) {
            if (!r->root_seen)
                return xml_fail(r, "no <subscribers> element");
            return 0;
        }
        int type = xmlTextReaderNodeType(r->reader);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE || type == XML_READER_TYPE_ENTITY_REFERENCE ||
            type == XML_READER_TYPE_ENTITY) {
            snprintf(r->err, sizeof(r->err), "%s", dtd_refused);
            return xml_fail(r, dtd_refused);
        }
        if (type != XML_READER_TYPE_ELEMENT)
            continue;
        const xmlChar *name = xmlTextReaderConstName(r->reader);
        int depth = xmlTextReaderDepth(r->reader);
        if (depth == 0) {
            if (!xml_is(name, "subscribers")) {
                snprintf(r->err, sizeof(r->err), "line %ld: the root element is <%.64s>, not <subscribers>",
                         xmlGetLineNo(xmlTextReaderCurrentNode(r->reader)), (const char *)name);
                return xml_fail(r, "");
            }
            r->root_seen = true;
            continue;
        }
        xmlNodePtr node = xmlTextReaderExpand(r->reader);
        if (!node)
            return xml_fail(r, "not well-formed XML");
        if (xml_is(name, "subscriber")) {
            xml_read_record(r, node, rec);
        } else {
            memset(rec, 0, sizeof(*rec));
            rec->line = xmlGetLineNo(node);
            rec->problem = "unexpected element (not <subscriber>)";
        }
        r->current = node;
        return 1;
    }
}

/* xml_reader_raw - the record last returned, serialised as XML (valid until the next call); "" if none. */
const char *xml_reader_raw(struct xml_reader *r)
{
    if (!r->current || !r->raw)
        return "";
    xmlBufferEmpty(r->raw);
    xmlNodeDump(r->raw, r->current->doc, r->current, 0, 0);
    return (const char *)xmlBufferContent(r->raw);
}

/* xml_reader_error - why the reader stopped, or "". */
const char *xml_reader_error(const struct xml_reader *r)
{
    return r->err;
}

/* xml_reader_free - release R; NULL is accepted. */
void xml_reader_free(struct xml_reader *r)
{
    if (!r)
        return;
    xml_forget(r);
    if (r->reader)
        xmlFreeTextReader(r->reader);
    if (r->raw)
        xmlBufferFree(r->raw);
    xfree(r->prolog);
    xfree(r->owned);
    xfree(r->attrs);
    xfree(r->lists);
    xfree(r);
}
