#ifndef TOLLGATE_CUSERSPACERCU_H
#define TOLLGATE_CUSERSPACERCU_H

// Thin wrappers over liburcu's QSBR flavour, whose read-side primitives are macros and inline functions
// that Swift cannot call directly. See https://liburcu.org/ and urcu/urcu-qsbr.h.

/// Registers the calling thread as an RCU reader (online). The corresponding C function is `rcu_register_thread`.
void tollgate_rcu_register_thread(void);
/// Unregisters the calling reader thread. The corresponding C function is `rcu_unregister_thread`.
void tollgate_rcu_unregister_thread(void);
/// Announces a quiescent state: the thread holds no RCU-protected pointer. `rcu_quiescent_state`.
void tollgate_rcu_quiescent_state(void);
/// Marks the thread offline before it blocks (an extended quiescent state). `rcu_thread_offline`.
void tollgate_rcu_thread_offline(void);
/// Marks the thread online again after blocking. `rcu_thread_online`.
void tollgate_rcu_thread_online(void);
/// Reads an RCU-protected pointer. `rcu_dereference`.
void *tollgate_rcu_dereference(void *const *slot);
/// Publishes `value` into `slot` and returns the previous pointer. `rcu_xchg_pointer`.
void *tollgate_rcu_exchange_pointer(void **slot, void *value);
/// Waits for a grace period: every reader has passed a quiescent state. `synchronize_rcu`.
void tollgate_rcu_synchronize(void);

#endif
