//! Keeping the store healthy: deleting what nothing references ([`gc`],
//! with [`crate::repository::roots`] saying what is referenced), checking every object ([`fsck`]), and measuring
//! what the store holds ([`du`]).

pub mod du;
pub mod fsck;
pub mod gc;
pub mod retention;

pub use du::{du, DuReport};
pub use fsck::{fsck, FsckOptions, FsckReport};
pub use gc::{gc, GcOptions, GcReport};
