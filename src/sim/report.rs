//! Tables. TODO
