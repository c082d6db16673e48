// _LGPL_SOURCE selects liburcu's inline fast paths; these wrappers are the only place they are used.
#define _LGPL_SOURCE
#include <urcu-qsbr.h>
#include "CUserspaceRCU.h"

void tollgate_rcu_register_thread(void) { rcu_register_thread(); }
void tollgate_rcu_unregister_thread(void) { rcu_unregister_thread(); }
void tollgate_rcu_quiescent_state(void) { rcu_quiescent_state(); }
void tollgate_rcu_thread_offline(void) { rcu_thread_offline(); }
void tollgate_rcu_thread_online(void) { rcu_thread_online(); }
void *tollgate_rcu_dereference(void *const *slot) { return rcu_dereference(*(void **)slot); }
void *tollgate_rcu_exchange_pointer(void **slot, void *value) { return rcu_xchg_pointer(slot, value); }
void tollgate_rcu_synchronize(void) { synchronize_rcu(); }
