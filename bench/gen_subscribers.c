/*
 * gen_subscribers - deterministic test subscribers for bench/import.sh.
 *
 * usage: gen_subscribers N DIR
 * writes DIR/subscribers.csv (header, five attribute columns, some quoted
 * names), DIR/subscribers.xml (the same records in postino's XML format) and
 * DIR/subscribers.tsv (the clean rows email, name, attribs as JSON, for
 * psql \copy). The same N always gives the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const firsts[] = { "Alice", "Bruno", "Chloé", "David", "Emma", "François", "Greta", "Hugo",
                                      "Inès", "Jules", "Katia", "Léo", "Manon", "Nils", "Olga", "Paul" };
static const char *const lasts[] = { "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit",
                                     "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel" };
static const char *const cities[] = { "Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Lille",
                                      "Bordeaux", "Rennes", "Strasbourg", "Genève", "Bruxelles" };
static const char *const countries[] = { "FR", "BE", "CH", "LU", "CA", "DE", "ES", "IT" };
static const char *const plans[] = { "free", "basic", "pro", "team", "enterprise" };

static unsigned long long state = 88172645463325252ULL;

static unsigned next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (unsigned)(state >> 11);
}

#define PICK(a) (a[next() % (sizeof(a) / sizeof(a[0]))])

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_subscribers N DIR\n");
        return 2;
    }
    long n = atol(argv[1]);
    char path[4096];
    snprintf(path, sizeof(path), "%s/subscribers.csv", argv[2]);
    FILE *csv = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/subscribers.xml", argv[2]);
    FILE *xml = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/subscribers.tsv", argv[2]);
    FILE *tsv = fopen(path, "w");
    if (!csv || !xml || !tsv) {
        perror("gen_subscribers");
        return 1;
    }
    fputs("email,name,city,country,plan,age,signup\n", csv);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<subscribers>\n", xml);
    for (long i = 1; i <= n; i++) {
        const char *first = PICK(firsts), *last = PICK(lasts), *city = PICK(cities), *country = PICK(countries);
        const char *plan = PICK(plans);
        unsigned age = 18 + next() % 70, month = 1 + next() % 12, day = 1 + next() % 28;
        char email[128], name[128], signup[16];
        snprintf(email, sizeof(email), "%s.%s.%ld@example%ld.com", first[0] == 'C' ? "chloe" : "user", "x", i,
                 i % 997);
        int comma = i % 10 == 0;
        if (comma)
            snprintf(name, sizeof(name), "%s, %s", last, first);
        else
            snprintf(name, sizeof(name), "%s %s", first, last);
        snprintf(signup, sizeof(signup), "20%02u-%02u-%02u", 15 + (unsigned)(i % 10), month, day);
        if (comma)
            fprintf(csv, "%s,\"%s\",%s,%s,%s,%u,%s\n", email, name, city, country, plan, age, signup);
        else
            fprintf(csv, "%s,%s,%s,%s,%s,%u,%s\n", email, name, city, country, plan, age, signup);
        fprintf(xml,
                "  <subscriber email=\"%s\"><name>%s</name><attribute name=\"city\">%s</attribute>"
                "<attribute name=\"country\">%s</attribute><attribute name=\"plan\">%s</attribute>"
                "<attribute name=\"age\">%u</attribute><attribute name=\"signup\">%s</attribute></subscriber>\n",
                email, name, city, country, plan, age, signup);
        fprintf(tsv, "%s\t%s\t{\"city\":\"%s\",\"country\":\"%s\",\"plan\":\"%s\",\"age\":\"%u\",\"signup\":\"%s\"}\n",
                email, name, city, country, plan, age, signup);
    }
    fputs("</subscribers>\n", xml);
    if (fclose(csv) || fclose(xml) || fclose(tsv)) {
        perror("gen_subscribers");
        return 1;
    }
    return 0;
}
