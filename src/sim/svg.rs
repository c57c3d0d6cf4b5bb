//! Charts. TODO
