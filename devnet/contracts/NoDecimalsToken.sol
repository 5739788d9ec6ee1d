// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title NoDecimalsToken
/// @notice ERC-20-like token that deliberately has no decimals() function.
contract NoDecimalsToken {
    string public name;
    string public symbol;
    uint256 public totalSupply;

    mapping(address => uint256) public balanceOf;

    event Transfer(address indexed from, address indexed to, uint256 value);

    constructor(string memory name_, string memory symbol_) {
        name = name_;
        symbol = symbol_;
    }

    /// @notice Mint `amount` to `to`; open to anyone.
    function mint(address to, uint256 amount) external {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }
}
