"""LED boards: the yizhan frame protocol, serial/TCP links, the hall board, window strips, a simulator."""
