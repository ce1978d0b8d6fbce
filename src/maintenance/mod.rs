//! Keeping the store healthy: what is referenced ([`roots`]), deleting
//! what is not ([`gc`]), checking every object ([`fsck`]), and measuring
//! what the store holds ([`du`]).

pub mod du;
pub mod fsck;
pub mod gc;
pub mod retention;
pub mod roots;

pub use du::{du, DuReport};
pub use fsck::{fsck, FsckOptions, FsckReport};
pub use gc::{gc, GcOptions, GcReport};
