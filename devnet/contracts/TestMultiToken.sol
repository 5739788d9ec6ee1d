// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title TestMultiToken
/// @notice Minimal ERC-1155 (mint, balanceOf, balanceOfBatch, the owner's own transfers;
///         no receiver hooks).
contract TestMultiToken {
    mapping(uint256 => mapping(address => uint256)) private _balances;

    event TransferSingle(
        address indexed operator, address indexed from, address indexed to, uint256 id, uint256 value
    );

    event TransferBatch(
        address indexed operator,
        address indexed from,
        address indexed to,
        uint256[] ids,
        uint256[] values
    );

    /// @notice Move the sender's own tokens.
    function safeTransferFrom(address from, address to, uint256 id, uint256 amount, bytes calldata)
        external
    {
        require(from == msg.sender, "TestMultiToken: not the owner");
        _move(from, to, id, amount);
        emit TransferSingle(msg.sender, from, to, id, amount);
    }

    /// @notice Move several of the sender's own tokens at once.
    function safeBatchTransferFrom(
        address from,
        address to,
        uint256[] calldata ids,
        uint256[] calldata amounts,
        bytes calldata
    ) external {
        require(from == msg.sender, "TestMultiToken: not the owner");
        require(ids.length == amounts.length, "TestMultiToken: length mismatch");
        for (uint256 i = 0; i < ids.length; ++i) {
            _move(from, to, ids[i], amounts[i]);
        }
        emit TransferBatch(msg.sender, from, to, ids, amounts);
    }

    function _move(address from, address to, uint256 id, uint256 amount) internal {
        require(_balances[id][from] >= amount, "TestMultiToken: insufficient balance");
        _balances[id][from] -= amount;
        _balances[id][to] += amount;
    }

    /// @notice Mint `amount` of token `id` to `to`; open to anyone.
    function mint(address to, uint256 id, uint256 amount) external {
        require(to != address(0), "TestMultiToken: mint to zero address");
        _balances[id][to] += amount;
        emit TransferSingle(msg.sender, address(0), to, id, amount);
    }

    function balanceOf(address owner, uint256 id) external view returns (uint256) {
        return _balances[id][owner];
    }

    function balanceOfBatch(address[] calldata owners, uint256[] calldata ids)
        external
        view
        returns (uint256[] memory balances)
    {
        require(owners.length == ids.length, "TestMultiToken: length mismatch");
        balances = new uint256[](owners.length);
        for (uint256 i = 0; i < owners.length; ++i) {
            balances[i] = _balances[ids[i]][owners[i]];
        }
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7 || interfaceId == 0xd9b67a26;
    }
}
