/* The body fingerprint's inner loops in C: newsstore._minhash's signature, bands and
 * distance without numpy's per-call cost (~25 calls of ~1 us each for a page).
 *
 * signature(text, table) walks the joined paragraphs once: each code point goes through
 * `table` (65,536 native uint16, built by newsstore._minhash from unicodedata: the code
 * point NFKC-normalised, lower-cased and kept only if a letter or digit; 0 when dropped;
 * UNSAFE when treating it on its own may differ from normalising the whole string). It
 * returns None at the first UNSAFE or non-BMP code point (the caller then takes the numpy
 * path), b"" when fewer than MIN_CHARACTERS are kept, else the 128-byte signature, byte for
 * byte what the numpy code computes: the same splitmix shingle hash, each slot's true
 * minimum, its low 16 bits little-endian with 0 made 1, and 0 for an empty slot.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define SLOTS 64
#define SLOT_SHIFT 58 /* the top 6 bits of a hash pick its slot */
#define BAND_SLOTS 3
#define BANDS (SLOTS / BAND_SLOTS)
#define SHINGLE 3
#define MIN_CHARACTERS 30
#define TABLE_SIZE 0x10000
#define UNSAFE 0xFFFF /* a noncharacter: never a kept letter or digit */
#define STACK_CODES 4096

static const uint64_t M1 = 0x9E3779B97F4A7C15ULL;
static const uint64_t M2 = 0xBF58476D1CE4E5B9ULL;
static const uint64_t M3 = 0x94D049BB133111EBULL;

/* One loop for each width of str: UCS1 and UCS2 code points are all in the table. */
#define KEEP(type)                                                   \
    for (i = 0; i < length; i++) {                                  \
        Py_UCS4 c = ((const type *)data)[i];                         \
        if (c >= TABLE_SIZE || (mapped = table[c]) == UNSAFE)        \
            return -1;                                               \
        if (mapped)                                                  \
            out[kept++] = mapped;                                    \
    }

/* Map `text` through `table` into `out` (room for len(text) codes): how many were kept,
 * or -1 at an UNSAFE or non-BMP code point. */
static Py_ssize_t
kept_codes(PyObject *text, const uint16_t *table, uint32_t *out)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(text), kept = 0, i;
    const void *data = PyUnicode_DATA(text);
    uint16_t mapped;

    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        KEEP(Py_UCS1)
        break;
    case PyUnicode_2BYTE_KIND:
        KEEP(Py_UCS2)
        break;
    default:
        KEEP(Py_UCS4)
    }
    return kept;
}

static PyObject *
packed_signature(const uint32_t *codes, Py_ssize_t count)
{
    uint64_t mins[SLOTS];
    unsigned char found[SLOTS] = {0};
    unsigned char packed[SLOTS * 2];
    Py_ssize_t n = count - SHINGLE + 1, i;
    int slot;

    for (i = 0; i < n; i++) {
        uint64_t h = (uint64_t)codes[i] * M1;
        h = (h ^ codes[i + 1]) * M2;
        h = (h ^ codes[i + 2]) * M2;
        h ^= h >> 30;
        h *= M3;
        h ^= h >> 31;
        slot = (int)(h >> SLOT_SHIFT);
        if (!found[slot] || h < mins[slot]) {
            mins[slot] = h;
            found[slot] = 1;
        }
    }
    for (slot = 0; slot < SLOTS; slot++) {
        uint16_t value = 0; /* an empty slot */
        if (found[slot]) {
            value = (uint16_t)(mins[slot] & 0xFFFF);
            if (value == 0)
                value = 1; /* 0 is kept for empty slots */
        }
        packed[slot * 2] = (unsigned char)(value & 0xFF);
        packed[slot * 2 + 1] = (unsigned char)(value >> 8);
    }
    return PyBytes_FromStringAndSize((const char *)packed, sizeof packed);
}

static PyObject *
fingerprint_signature(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer table;
    uint32_t stack[STACK_CODES], *codes = stack;
    Py_ssize_t count;
    PyObject *result;

    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "signature(text, table) takes two arguments");
        return NULL;
    }
    if (!PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "signature: text must be a str");
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &table, PyBUF_SIMPLE) < 0)
        return NULL;
    if (table.len != TABLE_SIZE * (Py_ssize_t)sizeof(uint16_t)) {
        PyBuffer_Release(&table);
        PyErr_SetString(PyExc_ValueError, "signature: the table must hold 65,536 uint16");
        return NULL;
    }
    if (PyUnicode_GET_LENGTH(args[0]) > STACK_CODES) {
        codes = PyMem_Malloc(PyUnicode_GET_LENGTH(args[0]) * sizeof(uint32_t));
        if (codes == NULL) {
            PyBuffer_Release(&table);
            return PyErr_NoMemory();
        }
    }
    count = kept_codes(args[0], (const uint16_t *)table.buf, codes);
    PyBuffer_Release(&table);
    if (count < 0) {
        result = Py_NewRef(Py_None);
    } else if (count < MIN_CHARACTERS) {
        result = PyBytes_FromStringAndSize(NULL, 0);
    } else {
        result = packed_signature(codes, count);
    }
    if (codes != stack)
        PyMem_Free(codes);
    return result;
}

/* Two buffers of native uint16 slots of one length, for bands and distance. */
static int
slots_of(PyObject *obj, Py_buffer *view)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0)
        return -1;
    if (view->len % 2) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_TypeError, "a signature holds 16-bit slots: an even length");
        return -1;
    }
    return 0;
}

/* The 64 slots of a 128-byte signature, and its band keys (those with no empty slot) in
   keys: how many. -1 with an exception set for anything else; ``who`` names the caller. */
static int
band_keys(PyObject *sig, uint64_t keys[BANDS], const char *who)
{
    Py_buffer view;
    uint16_t slots[SLOTS];
    int band, n = 0;

    if (slots_of(sig, &view) < 0)
        return -1;
    if (view.len != (Py_ssize_t)sizeof slots) {
        PyBuffer_Release(&view);
        PyErr_Format(PyExc_ValueError, "%s: a signature is 128 bytes", who);
        return -1;
    }
    memcpy(slots, view.buf, sizeof slots);
    PyBuffer_Release(&view);
    for (band = 0; band < BANDS; band++) {
        uint64_t a = slots[band * 3], b = slots[band * 3 + 1], c = slots[band * 3 + 2];
        if (a && b && c) /* a band with an empty slot is left out */
            keys[n++] = ((uint64_t)band << 48) | (a << 32) | (b << 16) | c;
    }
    return n;
}

static PyObject *
fingerprint_bands(PyObject *Py_UNUSED(module), PyObject *sig)
{
    uint64_t keys[BANDS];
    PyObject *out, *key;
    int i, n = band_keys(sig, keys, "bands");

    if (n < 0)
        return NULL;
    out = PyList_New(0);
    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        key = PyLong_FromUnsignedLongLong(keys[i]);
        if (key == NULL || PyList_Append(out, key) < 0) {
            Py_XDECREF(key);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(key);
    }
    return out;
}

/* The distance of two signatures, -1 with an exception set. */
static Py_ssize_t
slot_distance(PyObject *first, PyObject *second)
{
    Py_buffer a, b;
    Py_ssize_t i, differ = 0;
    const unsigned char *x, *y;

    if (slots_of(first, &a) < 0)
        return -1;
    if (slots_of(second, &b) < 0) {
        PyBuffer_Release(&a);
        return -1;
    }
    if (a.len != b.len) {
        PyBuffer_Release(&a);
        PyBuffer_Release(&b);
        PyErr_SetString(PyExc_ValueError, "distance: signatures of different lengths");
        return -1;
    }
    x = a.buf;
    y = b.buf;
    for (i = 0; i < a.len; i += 2) /* a slot differs when either of its bytes does */
        differ += x[i] != y[i] || x[i + 1] != y[i + 1];
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    return differ;
}

static PyObject *
fingerprint_distance(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t differ;

    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "distance(a, b) takes two arguments");
        return NULL;
    }
    differ = slot_distance(args[0], args[1]);
    return differ < 0 ? NULL : PyLong_FromSsize_t(differ);
}

static Py_ssize_t
write_decimal(char *out, uint64_t value)
{
    char digits[20];
    Py_ssize_t n = 0, i;

    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    for (i = 0; i < n; i++)
        out[i] = digits[n - 1 - i];
    return n;
}

static int
compare_keys(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

static PyObject *
fingerprint_band_index(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *seq, *crowded = NULL, *json = NULL, *result = NULL;
    Py_ssize_t n, i, k = 0, run, crowd, at = 0;
    uint64_t *keys = NULL;
    char *text = NULL;

    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "band_index(signatures, crowd) takes two arguments");
        return NULL;
    }
    crowd = PyLong_AsSsize_t(args[1]);
    if (crowd == -1 && PyErr_Occurred())
        return NULL;
    seq = PySequence_Fast(args[0], "band_index: a sequence of signatures");
    if (seq == NULL)
        return NULL;
    n = PySequence_Fast_GET_SIZE(seq);
    keys = PyMem_Malloc(sizeof *keys * (size_t)(n * BANDS + 1));
    /* the longest key is 17 digits: 18 bytes a key with its comma, and the brackets */
    text = PyMem_Malloc((size_t)(n * BANDS * 18 + 3));
    crowded = PyList_New(0);
    if (keys == NULL || text == NULL || crowded == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (i = 0; i < n; i++) {
        int got = band_keys(PySequence_Fast_GET_ITEM(seq, i), keys + k, "band_index");
        if (got < 0)
            goto done;
        k += got;
    }
    qsort(keys, (size_t)k, sizeof *keys, compare_keys);
    text[at++] = '[';
    for (i = 0; i < k; i += run) {
        for (run = 1; i + run < k && keys[i + run] == keys[i]; run++)
            ;
        if (at > 1)
            text[at++] = ',';
        at += write_decimal(text + at, keys[i]);
        if (run >= crowd) {
            PyObject *key = PyLong_FromUnsignedLongLong(keys[i]);
            if (key == NULL || PyList_Append(crowded, key) < 0) {
                Py_XDECREF(key);
                goto done;
            }
            Py_DECREF(key);
        }
    }
    text[at++] = ']';
    json = PyUnicode_FromStringAndSize(text, at);
    if (json != NULL)
        result = PyTuple_Pack(2, json, crowded);
done:
    Py_XDECREF(json);
    Py_XDECREF(crowded);
    PyMem_Free(keys);
    PyMem_Free(text);
    Py_DECREF(seq);
    return result;
}

/* One candidate of a fingerprint: how many of its bands' lists hold it, in the order first met. */
typedef struct {
    PyObject *key; /* borrowed from by_band's lists */
    Py_hash_t hash;
    Py_ssize_t count, first;
} candidate;

static int
by_count(const void *x, const void *y)
{
    const candidate *a = x, *b = y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return (a->first > b->first) - (a->first < b->first);
}

static int
append_pair(PyObject *out, PyObject *a, PyObject *b, Py_ssize_t d)
{
    PyObject *dist = PyLong_FromSsize_t(d), *pair;
    if (dist == NULL)
        return -1;
    pair = PyTuple_Pack(3, a, b, dist);
    Py_DECREF(dist);
    if (pair == NULL || PyList_Append(out, pair) < 0) {
        Py_XDECREF(pair);
        return -1;
    }
    Py_DECREF(pair);
    return 0;
}

/* newsstore._copies.pairs_of's loop (see there): the same pairs, as a list of both orders. */
static PyObject *
fingerprint_pairs(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *new, *by_band, *signatures, *out, *key, *value;
    Py_ssize_t compared, kept, limit, pos = 0, room = 64;
    candidate *cands;

    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "pairs(new, by_band, signatures, compared, kept, max_distance)");
        return NULL;
    }
    new = args[0];
    by_band = args[1];
    signatures = args[2];
    if (!PyDict_Check(new) || !PyDict_Check(by_band) || !PyDict_Check(signatures)) {
        PyErr_SetString(PyExc_TypeError, "pairs: new, by_band and signatures are dicts");
        return NULL;
    }
    compared = PyLong_AsSsize_t(args[3]);
    kept = PyLong_AsSsize_t(args[4]);
    limit = PyLong_AsSsize_t(args[5]);
    if (PyErr_Occurred())
        return NULL;
    cands = PyMem_Malloc(sizeof *cands * (size_t)room);
    out = PyList_New(0);
    if (cands == NULL || out == NULL) {
        PyMem_Free(cands);
        Py_XDECREF(out);
        return PyErr_NoMemory();
    }
    while (PyDict_Next(new, &pos, &key, &value)) {
        PyObject *sig, *band_keys;
        Py_ssize_t n = 0, i, j, b, taken, near = 0;
        Py_hash_t own;
        candidate best[64];
        Py_ssize_t dist[64];

        if (!PyTuple_Check(value) || PyTuple_GET_SIZE(value) != 2) {
            PyErr_SetString(PyExc_TypeError, "pairs: new maps a key to (signature, bands)");
            goto fail;
        }
        sig = PyTuple_GET_ITEM(value, 0);
        band_keys = PyTuple_GET_ITEM(value, 1);
        if (!PyList_Check(band_keys)) {
            PyErr_SetString(PyExc_TypeError, "pairs: a fingerprint's bands are a list");
            goto fail;
        }
        for (b = 0; b < PyList_GET_SIZE(band_keys); b++) {
            PyObject *list = PyDict_GetItemWithError(by_band, PyList_GET_ITEM(band_keys, b));
            if (list == NULL) {
                if (PyErr_Occurred())
                    goto fail;
                continue;
            }
            if (!PyList_Check(list)) {
                PyErr_SetString(PyExc_TypeError, "pairs: by_band maps a band to a list");
                goto fail;
            }
            for (j = 0; j < PyList_GET_SIZE(list); j++) {
                PyObject *other = PyList_GET_ITEM(list, j);
                Py_hash_t h = PyObject_Hash(other);
                if (h == -1)
                    goto fail;
                for (i = 0; i < n; i++) {
                    if (cands[i].hash == h) {
                        int same = cands[i].key == other
                                       ? 1
                                       : PyObject_RichCompareBool(cands[i].key, other, Py_EQ);
                        if (same < 0)
                            goto fail;
                        if (same)
                            break;
                    }
                }
                if (i < n) {
                    cands[i].count++;
                    continue;
                }
                if (n == room) {
                    candidate *more = PyMem_Realloc(cands, sizeof *cands * (size_t)(room * 2));
                    if (more == NULL) {
                        PyErr_NoMemory();
                        goto fail;
                    }
                    cands = more;
                    room *= 2;
                }
                cands[n].key = other;
                cands[n].hash = h;
                cands[n].count = 1;
                cands[n].first = n;
                n++;
            }
        }
        /* Not compared with itself. */
        own = PyObject_Hash(key);
        if (own == -1)
            goto fail;
        for (i = 0; i < n; i++) {
            int same;
            if (cands[i].hash != own)
                continue;
            same = cands[i].key == key ? 1 : PyObject_RichCompareBool(cands[i].key, key, Py_EQ);
            if (same < 0)
                goto fail;
            if (same) {
                memmove(cands + i, cands + i + 1, sizeof *cands * (size_t)(n - i - 1));
                n--;
                break;
            }
        }
        if (n == 0)
            continue;
        qsort(cands, (size_t)n, sizeof *cands, by_count);
        taken = n < compared ? n : compared;
        if (taken > 64)
            taken = 64;
        for (i = 0; i < taken; i++) {
            PyObject *other_sig = PyDict_GetItemWithError(signatures, cands[i].key);
            Py_ssize_t d;
            if (other_sig == NULL) {
                if (!PyErr_Occurred())
                    PyErr_SetObject(PyExc_KeyError, cands[i].key);
                goto fail;
            }
            d = slot_distance(sig, other_sig);
            if (d < 0)
                goto fail;
            if (d > limit)
                continue;
            /* Insert in (distance, key) order: a few at most. */
            for (j = near; j > 0; j--) {
                int less = 0;
                if (d == dist[j - 1]) {
                    less = PyObject_RichCompareBool(cands[i].key, best[j - 1].key, Py_LT);
                    if (less < 0)
                        goto fail;
                }
                if (!(d < dist[j - 1] || less))
                    break;
                best[j] = best[j - 1];
                dist[j] = dist[j - 1];
            }
            best[j] = cands[i];
            dist[j] = d;
            near++;
        }
        for (i = 0; i < near && i < kept; i++) {
            if (append_pair(out, key, best[i].key, dist[i]) < 0 ||
                append_pair(out, best[i].key, key, dist[i]) < 0)
                goto fail;
        }
    }
    PyMem_Free(cands);
    return out;
fail:
    PyMem_Free(cands);
    Py_DECREF(out);
    return NULL;
}

static PyMethodDef fingerprint_methods[] = {
    {"signature", (PyCFunction)(void (*)(void))fingerprint_signature, METH_FASTCALL,
     "signature(text, table) -> bytes | None: the MinHash signature of a joined body "
     "(b'' when too short, None when a code point needs the exact numpy path)."},
    {"bands", fingerprint_bands, METH_O,
     "bands(sig) -> list[int]: the band keys of a signature with no empty slot."},
    {"distance", (PyCFunction)(void (*)(void))fingerprint_distance, METH_FASTCALL,
     "distance(a, b) -> int: how many 16-bit slots of two signatures differ."},
    {"pairs", (PyCFunction)(void (*)(void))fingerprint_pairs, METH_FASTCALL,
     "pairs(new, by_band, signatures, compared, kept, max_distance) -> list: the pairs "
     "of newsstore._copies.pairs_of, each in both orders."},
    {"band_index", (PyCFunction)(void (*)(void))fingerprint_band_index, METH_FASTCALL,
     "band_index(signatures, crowd) -> (str, list[int]): the distinct band keys of the "
     "signatures as a sorted JSON array, and those that crowd signatures or more have."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fingerprint_module = {
    PyModuleDef_HEAD_INIT,
    "newsstore._fingerprint",
    "The body fingerprint's inner loops (see newsstore._minhash).",
    0,
    fingerprint_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__fingerprint(void)
{
    return PyModuleDef_Init(&fingerprint_module);
}
