// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title RevertingToken
/// @notice Has token metadata, but balanceOf always reverts.
contract RevertingToken {
    string public name;
    string public symbol;
    uint8 public decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
    }

    /// @notice Always reverts.
    function balanceOf(address) external pure returns (uint256) {
        revert("RevertingToken: balanceOf disabled");
    }
}
