// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Bytes32Token
/// @notice MKR-style token whose name and symbol are bytes32 rather than string.
contract Bytes32Token {
    bytes32 public name;
    bytes32 public symbol;
    uint8 public decimals;
    uint256 public totalSupply;

    mapping(address => uint256) public balanceOf;

    event Transfer(address indexed from, address indexed to, uint256 value);

    constructor(bytes32 name_, bytes32 symbol_, uint8 decimals_) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
    }

    /// @notice Mint `amount` to `to`; open to anyone.
    function mint(address to, uint256 amount) external {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }
}
