#include "membudget.h"

#include "msg.h"

void membudget_init(membudget *b, size_t max)
{
    atomic_init(&b->used, 0);
    b->max = max;
}

int membudget_take(membudget *b, size_t n)
{
    size_t used = atomic_load(&b->used);

    do {
        if (n > b->max || used > b->max - n)
            return -1;
    } while (!atomic_compare_exchange_weak(&b->used, &used, used + n));
    return 0;
}

void membudget_give(membudget *b, size_t n)
{
    size_t was = atomic_fetch_sub(&b->used, n);

    if (was < n)
        msg_panic("membudget_give: %zu bytes given back, %zu taken", n, was);
}

size_t membudget_used(membudget *b)
{
    return atomic_load(&b->used);
}
