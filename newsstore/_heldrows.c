/* The SQLite store's held index rows, sorted for the commit (newsstore/_store/sqlite/buffer.py).
 *
 * sorted_pairs(held, limit) takes {snapshot id: JSON array of integers} (a snapshot's item
 * days or band keys) and returns the distinct (value, id) pairs sorted, as JSON texts of at
 * most `limit` pairs each: "[[value,id],...]". The store inserts each text in its order, so
 * SQLite needs no sorter, and holds one text's parse at a time, however large the
 * transaction. newsstore._store.sqlite.buffer.python_sorted_pairs is the reference: the same
 * texts, byte for byte (tests/unit/test_held_rows.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

typedef struct {
    int64_t value, id;
} pair;

static int
by_value_then_id(const void *x, const void *y)
{
    const pair *a = x, *b = y;
    if (a->value != b->value)
        return a->value < b->value ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* Append the integers of a JSON array text ("[1, -2,3]", spaces allowed) as (value, id). */
static int
parse_array(const char *s, Py_ssize_t len, int64_t id, pair **rows, Py_ssize_t *n,
            Py_ssize_t *room)
{
    Py_ssize_t i = 0;
    int first = 1;

#define SKIP_SPACES()                                                                          \
    while (i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r'))           \
    i++
    SKIP_SPACES();
    if (i >= len || s[i] != '[')
        goto bad;
    i++;
    for (;;) {
        int negative = 0, digits = 0;
        uint64_t magnitude = 0;

        SKIP_SPACES();
        if (i < len && s[i] == ']' && first) {
            i++;
            break;
        }
        if (i < len && s[i] == '-') {
            negative = 1;
            i++;
        }
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (magnitude > (UINT64_C(1) << 63) / 10) /* would pass 2**63 */
                goto bad;
            magnitude = magnitude * 10 + (uint64_t)(s[i] - '0');
            digits++;
            i++;
        }
        if (!digits || magnitude > (negative ? UINT64_C(1) << 63 : (UINT64_C(1) << 63) - 1))
            goto bad;
        if (*n == *room) {
            Py_ssize_t more = *room * 2 + 1024;
            pair *grown = PyMem_Realloc(*rows, sizeof(pair) * (size_t)more);
            if (grown == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            *rows = grown;
            *room = more;
        }
        (*rows)[*n].value = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
        (*rows)[*n].id = id;
        (*n)++;
        first = 0;
        SKIP_SPACES();
        if (i < len && s[i] == ',') {
            i++;
            continue;
        }
        if (i < len && s[i] == ']') {
            i++;
            break;
        }
        goto bad;
    }
    SKIP_SPACES();
    if (i == len)
        return 0;
#undef SKIP_SPACES
bad:
    PyErr_SetString(PyExc_ValueError, "sorted_pairs: a value is not a JSON array of integers");
    return -1;
}

static Py_ssize_t
write_integer(char *out, int64_t value)
{
    char digits[20];
    Py_ssize_t n = 0, at = 0;
    uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;

    if (value < 0)
        out[at++] = '-';
    do {
        digits[n++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    while (n)
        out[at++] = digits[--n];
    return at;
}

static PyObject *
heldrows_sorted_pairs(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *held, *key, *value, *out = NULL;
    Py_ssize_t pos = 0, n = 0, room = 0, limit, start, i, at;
    pair *rows = NULL;
    char *text = NULL;

    if (nargs != 2 || !PyDict_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "sorted_pairs(held: dict, limit: int)");
        return NULL;
    }
    held = args[0];
    limit = PyLong_AsSsize_t(args[1]);
    if (limit == -1 && PyErr_Occurred())
        return NULL;
    if (limit < 1) {
        PyErr_SetString(PyExc_ValueError, "sorted_pairs: limit must be at least 1");
        return NULL;
    }
    while (PyDict_Next(held, &pos, &key, &value)) {
        Py_ssize_t len;
        const char *s;
        long long id = PyLong_AsLongLong(key);

        if (id == -1 && PyErr_Occurred())
            goto done;
        s = PyUnicode_AsUTF8AndSize(value, &len);
        if (s == NULL || parse_array(s, len, (int64_t)id, &rows, &n, &room) < 0)
            goto done;
    }
    if (n) {
        Py_ssize_t kept = 1;

        qsort(rows, (size_t)n, sizeof(pair), by_value_then_id);
        for (i = 1; i < n; i++) /* the distinct pairs */
            if (rows[i].value != rows[kept - 1].value || rows[i].id != rows[kept - 1].id)
                rows[kept++] = rows[i];
        n = kept;
    }
    out = PyList_New(0);
    /* two integers of up to 20 characters, their brackets and two commas */
    text = PyMem_Malloc((size_t)(n < limit ? n : limit) * 45 + 3);
    if (out == NULL || text == NULL) {
        Py_CLEAR(out);
        PyErr_NoMemory();
        goto done;
    }
    for (start = 0; start < n; start = i) {
        PyObject *chunk;

        at = 0;
        text[at++] = '[';
        for (i = start; i < n && i - start < limit; i++) {
            if (i > start)
                text[at++] = ',';
            text[at++] = '[';
            at += write_integer(text + at, rows[i].value);
            text[at++] = ',';
            at += write_integer(text + at, rows[i].id);
            text[at++] = ']';
        }
        text[at++] = ']';
        chunk = PyUnicode_FromStringAndSize(text, at);
        if (chunk == NULL || PyList_Append(out, chunk) < 0) {
            Py_XDECREF(chunk);
            Py_CLEAR(out);
            goto done;
        }
        Py_DECREF(chunk);
    }
done:
    PyMem_Free(rows);
    PyMem_Free(text);
    return out;
}

static PyMethodDef heldrows_methods[] = {
    {"sorted_pairs", (PyCFunction)(void (*)(void))heldrows_sorted_pairs, METH_FASTCALL,
     "sorted_pairs(held, limit) -> list[str]: the distinct (value, id) pairs of "
     "{id: JSON array of integers}, sorted, as JSON texts of at most limit pairs."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef heldrows_module = {
    PyModuleDef_HEAD_INIT,
    "newsstore._heldrows",
    "The SQLite store's held index rows, sorted (see newsstore._store.sqlite.buffer).",
    0,
    heldrows_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__heldrows(void)
{
    return PyModuleDef_Init(&heldrows_module);
}
